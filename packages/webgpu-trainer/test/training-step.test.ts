import { architecture } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compareWithCpu, webgpuAvailable, worst } from './reference.js';

const webgpu = await webgpuAvailable();
const spec = architecture('resnet20', { input: { height: 8, width: 8, channels: 3 }, classes: 10 });

describe.skipIf(!webgpu)('a compiled ResNet-20 training step against the tfjs cpu backend', () => {
  it('at 8x8, batch 4: loss, every updated weight and moving statistic', async () => {
    const result = worst(
      await compareWithCpu({ spec, batch: 4, seed: 7, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
    );
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  });

  it('a full then a partial last batch (its own plan), Nesterov: weights and epoch metrics', async () => {
    const result = worst(
      await compareWithCpu({
        spec,
        batch: 4,
        steps: [4, 3],
        seed: 11,
        lr: 0.05,
        momentum: 0.9,
        weightDecay: 1e-4,
        nesterov: true,
      }),
    );
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  });

  it('a knowledge-distillation step (λ 0.3, T 4) against teacher logits', async () => {
    const result = worst(
      await compareWithCpu({
        spec,
        batch: 4,
        seed: 5,
        lr: 0.1,
        momentum: 0.9,
        weightDecay: 0,
        loss: { kind: 'distillation', lambda: 0.3, temperature: 4 },
      }),
    );
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  });
});
