import { matchesFilter } from '@prunefuse/engine';
import { prunedSpec } from '@prunefuse/prunefuse';
import { compiledKernelBenchCases } from '@prunefuse/webgpu-trainer';
import { describe, expect, it } from 'vitest';

// The bench's kernel family as the CLI wires it: shapes from the registry, pruned widths
// from PruneFuse's own rule.
const cases = compiledKernelBenchCases({ prune: prunedSpec });
const names = cases.map((c) => c.name);

describe('bench kernel/conv and kernel/batchnorm cases', () => {
  it('cover the CIFAR ResNets at batch 128: 3x3 strides 1 and 2, 1x1 shortcuts, all passes', () => {
    for (const pass of ['forward', 'input-grad', 'filter-grad']) {
      for (const shape of [
        '128x32x32x16-3x3x16',
        '128x32x32x16-3x3x32-s2',
        '128x16x16x32-3x3x32',
        '128x16x16x32-3x3x64-s2',
        '128x8x8x64-3x3x64',
        '128x32x32x16-1x1x32-s2',
        '128x16x16x32-1x1x64-s2',
      ]) {
        expect(names).toContain(`kernel/conv/${pass}/cifar/${shape}`);
      }
    }
    // The stem reads the images: no input gradient.
    expect(names).toContain('kernel/conv/forward/cifar/128x32x32x3-3x3x16');
    expect(names).not.toContain('kernel/conv/input-grad/cifar/128x32x32x3-3x3x16');
    expect(names).toContain('kernel/batchnorm/backward/cifar/128x8x8x64');
  });

  it('cover pruned widths at p = 0.5 and 0.8 and ResNet-18/50 at Tiny-ImageNet 64x64', () => {
    expect(names).toContain('kernel/conv/forward/cifar/128x16x16x16-3x3x16'); // p = 0.5
    expect(names).toContain('kernel/conv/filter-grad/cifar/128x8x8x13-3x3x13'); // p = 0.8
    // The registry adapts ResNet-18/50 to 64x64 with a 3x3 stride-1 stem (no 7x7, no max pool).
    expect(names).toContain('kernel/conv/forward/tiny-imagenet/128x64x64x3-3x3x64');
    expect(names).toContain('kernel/conv/forward/tiny-imagenet/128x8x8x512-3x3x512');
  });

  it('are unique, on webgpu only, with the work of one iteration for FLOP/s or GB/s', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const c of cases) {
      expect(c.backends).toEqual(['webgpu']);
      expect((c.flops ?? 0) > 0 !== (c.bytes ?? 0) > 0, c.name).toBe(true);
      expect(c.repeats).toBeGreaterThanOrEqual(1);
    }
    const convs = names.filter((n) => matchesFilter(n, 'kernel/conv/'));
    expect(convs.every((n) => n.startsWith('kernel/conv/'))).toBe(true);
    expect(convs.length).toBeGreaterThan(0);
  });
});
