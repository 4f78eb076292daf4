import { architecture } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compareWithCpu, webgpuAvailable } from './reference.js';

const webgpu = await webgpuAvailable();

describe.skipIf(!webgpu)('a compiled training step against the tfjs cpu backend', () => {
  it('ResNet-20 at 8x8, batch 4: loss, every updated weight and moving statistic', async () => {
    const spec = architecture('resnet20', {
      input: { height: 8, width: 8, channels: 3 },
      classes: 10,
    });
    const agreement = await compareWithCpu({
      spec,
      batch: 4,
      seed: 7,
      lr: 0.1,
      momentum: 0.9,
      weightDecay: 5e-4,
    });
    expect(Math.abs(agreement.loss.compiled - agreement.loss.reference)).toBeLessThan(
      1e-5 * Math.abs(agreement.loss.reference),
    );
    const worst = agreement.updates[0]!;
    expect(worst.relativeError, `worst-matching weight: ${worst.name}`).toBeLessThan(1e-3);
  });
});
