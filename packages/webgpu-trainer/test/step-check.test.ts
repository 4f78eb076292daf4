import { architecture, weightSpecs } from '@prunefuse/models';
import { describe, expect, it, vi } from 'vitest';
import { ensurePytorch } from '../../models/test/pytorch-setup.js';
import { compareCompiledStep } from '../src/index.js';
import { cf, elementwise } from '../src/wgsl.js';
import { resnet18WithMaxPool, webgpuAvailable } from './reference.js';

/**
 * Which conv's filter gradient the compiled step scales by FAULT before its SGD update
 * (none while null): a kernel off by 0.5% on one layer, which the check must pin down.
 */
const fault: { layer: string | null } = vi.hoisted(() => ({ layer: null }));
const FAULT = 1.005;

vi.mock('../src/lower.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/lower.js')>();
  return {
    ...original,
    lowerTrainingStep(options: Parameters<typeof original.lowerTrainingStep>[0]) {
      const list = original.lowerTrainingStep(options);
      if (fault.layer !== null) {
        const gradient = options.arena.gradient(fault.layer, 'kernel');
        const scale = elementwise({
          label: 'fault',
          count: gradient.kind === 'arena' ? gradient.length : 0,
          bindings: [{ name: 'g', ref: gradient }],
          constants: { SCALE: cf(FAULT) },
          body: 'g[idx] = g[idx] * SCALE;',
        });
        // Just before the SGD update, the last dispatch.
        list.dispatches.splice(list.dispatches.length - 1, 0, scale);
      }
      return list;
    },
  };
});

const webgpu = await webgpuAvailable();
const spec = architecture('resnet8', { input: { height: 8, width: 8, channels: 3 }, classes: 10 });
const step = { spec, batch: 2, seed: 3, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 } as const;
const TOLERANCE = 1e-3;

describe.skipIf(!webgpu)('a compiled step checked against tfjs on the cpu backend', () => {
  it('agrees on the loss, every update and every trainable gradient', async () => {
    const agreement = await compareCompiledStep({ ...step, reference: 'cpu' });
    expect(agreement.reference).toBe('cpu');
    expect(agreement.updates).toHaveLength(weightSpecs(spec).length);
    expect(agreement.gradients.map((g) => g.name).sort()).toEqual(
      weightSpecs(spec)
        .filter((w) => w.trainable)
        .map((w) => w.name)
        .sort(),
    );
    expect(agreement.loss.relativeError).toBeLessThan(1e-5);
    for (const rows of [agreement.updates, agreement.gradients]) {
      expect(rows[0]!.relativeError, rows[0]!.name).toBeLessThan(TOLERANCE);
    }
  });

  it('a filter gradient off by 0.5% on one conv fails its gradient and update, nothing else', async () => {
    const conv = spec.layers.find((l) => l.kind === 'conv' && l.name !== spec.layers[0]!.name)!;
    fault.layer = conv.name;
    try {
      const agreement = await compareCompiledStep({ ...step, reference: 'cpu' });
      for (const rows of [agreement.updates, agreement.gradients]) {
        const failing = rows.filter((r) => r.relativeError > TOLERANCE);
        expect(failing.map((r) => r.name)).toEqual([`${conv.name}/kernel`]);
        // Weight decay is not scaled, so the update is off by slightly less than the gradient.
        expect(failing[0]!.relativeError).toBeGreaterThan(0.004);
        expect(failing[0]!.relativeError).toBeLessThan(0.006);
      }
    } finally {
      fault.layer = null;
    }
  });

  it('refuses a distillation step against float64, saying which reference to use', async () => {
    await expect(
      compareCompiledStep({
        ...step,
        loss: { kind: 'distillation', lambda: 0.5, temperature: 2 },
        reference: 'float64',
      }),
    ).rejects.toThrow(/--reference cpu/);
  });
});

describe.skipIf(!webgpu)('a compiled step checked against float64 PyTorch', () => {
  it("ResNet-18 with a max pool: its ReLUs on the compiled step's decisions, within tolerance", async () => {
    ensurePytorch();
    // 32x32, so that the last stage keeps 2x2 pixels: at 16x16 its batch norms would
    // normalise 2 values per channel (batch 2 at 1x1), an ill-conditioned gradient on which
    // tfjs on the cpu backend and the compiled step already differ by 2%.
    const resnet18 = resnet18WithMaxPool({ height: 32, width: 32, channels: 3 });
    const agreement = await compareCompiledStep({
      ...step,
      spec: resnet18,
      seed: 1,
      reference: 'float64',
      python: '/usr/bin/python3',
    });
    expect(agreement.reference).toBe('float64');
    expect(agreement.gradients).toHaveLength(
      weightSpecs(resnet18).filter((w) => w.trainable).length,
    );
    expect(agreement.reluDecisionsFixed).toBeGreaterThanOrEqual(0);
    expect(agreement.loss.relativeError).toBeLessThan(1e-5);
    for (const rows of [agreement.updates, agreement.gradients]) {
      expect(rows[0]!.relativeError, rows[0]!.name).toBeLessThan(TOLERANCE);
    }
  }, 600_000);
});
