import { useBackend } from '@prunefuse/engine';
import { architecture } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import {
  compileTrainer,
  type GpuStepTimes,
  profileCompiledStep,
  webgpuDevice,
} from '../src/index.js';
import { countTrainerBuffers, webgpuAvailable } from './reference.js';

const webgpu = await webgpuAvailable();
const spec = architecture('resnet8', { input: { height: 8, width: 8, channels: 3 }, classes: 10 });

describe.skipIf(!webgpu)('the profile of a compiled training step', () => {
  it('counts its dispatches and times each on the GPU where timestamps exist, leaving no buffer behind', async () => {
    await useBackend('webgpu');
    const counter = countTrainerBuffers(webgpuDevice());
    try {
      const profile = await profileCompiledStep({ spec, batch: 2, steps: 1 });
      expect(counter.live()).toBe(0);
      const trainer = await compileTrainer(spec, {
        batch: 2,
        optimizer: { momentum: 0.9, weightDecay: 0 },
      });
      expect(profile.dispatchesPerStep).toBe(trainer.dispatchesPerStep);
      expect(profile.pipelines).toBe(trainer.pipelineCount);
      trainer.dispose();
      expect(profile.hostEncodeMs).toBeGreaterThan(0);
      expect(profile.stepMs).toBeGreaterThan(0);
      if (!webgpuDevice().features.has('timestamp-query')) {
        expect(profile.gpu).toEqual({ unavailable: expect.stringMatching(/timestamp-query/) });
        return;
      }
      const gpu = profile.gpu as GpuStepTimes;
      for (const groups of [gpu.kernels, gpu.pipelines, gpu.dispatches]) {
        // Every dispatch counted once in each grouping, and the shares add up.
        expect(groups.reduce((sum, g) => sum + g.calls, 0)).toBe(profile.dispatchesPerStep);
        expect(groups.reduce((sum, g) => sum + g.share, 0)).toBeCloseTo(1, 6);
        expect(groups.map((g) => g.ms)).toEqual([...groups.map((g) => g.ms)].sort((a, b) => b - a));
      }
      expect(gpu.pipelines).toHaveLength(profile.pipelines);
      expect(gpu.kernels.map((k) => k.name)).toEqual(
        expect.arrayContaining(['forward', 'filter-gradient', 'loss', 'sgd']),
      );
      expect(gpu.kernels.find((k) => k.name === 'sgd')!.calls).toBe(1);
      expect(gpu.totalMs).toBeGreaterThan(0);
      // Dawn's timestamp quantisation is off: times are not all whole multiples of 65,536 ns.
      const ns = gpu.dispatches.map((d) => Math.round(d.ms * 1e6));
      expect(ns.some((t) => t % 65_536 !== 0)).toBe(true);
    } finally {
      counter.restore();
    }
  });
});
