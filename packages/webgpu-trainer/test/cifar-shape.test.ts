import { architecture } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compareWithCpu, webgpuAvailable, worst } from './reference.js';

const webgpu = await webgpuAvailable();

const step = { seed: 3, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };

// Its own file: at 32x32 the cpu backend's filter gradients alone take tens of seconds.
describe.skipIf(!webgpu)('a compiled training step at CIFAR shape against the cpu backend', () => {
  it('ResNet-20 at CIFAR shape (32x32), batch 2', async () => {
    const spec = architecture('resnet20', {
      input: { height: 32, width: 32, channels: 3 },
      classes: 10,
    });
    const result = worst(await compareWithCpu({ spec, batch: 2, ...step }));
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  }, 600_000);
});
