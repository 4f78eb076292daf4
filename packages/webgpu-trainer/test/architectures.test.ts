import { architecture, architectureNames } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../src/index.js';
import {
  compareWithCpu,
  preactStem,
  prunedResNet20,
  resnet18WithMaxPool,
  webgpuAvailable,
  worst,
} from './reference.js';

const webgpu = await webgpuAvailable();

const step = { seed: 3, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };

describe.skipIf(!webgpu)('compiled training steps of other shapes against the cpu backend', () => {
  it('a pruned-width ResNet-20 (widths 3 to 21, none a multiple of 4) at 8x8, batch 3', async () => {
    const spec = prunedResNet20({ height: 8, width: 8, channels: 3 });
    const result = worst(await compareWithCpu({ spec, batch: 3, ...step }));
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  }, 600_000);

  // Batch 4: at batch 2 the last stage's batch norms (1x1 pixels) see two rows each, where
  // x̂ = ±1 and the input gradient is pure rounding noise on both backends.
  it('ResNet-18 (quarter widths) with a stride-2 max pool at 16x16, batch 4', async () => {
    const spec = resnet18WithMaxPool({ height: 16, width: 16, channels: 3 });
    const result = worst(await compareWithCpu({ spec, batch: 4, ...step }));
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  }, 600_000);

  it('the pre-activation ResNet-164 blocks at 8x8, batch 4', async () => {
    const spec = preactStem({ height: 8, width: 8, channels: 3 });
    const result = worst(await compareWithCpu({ spec, batch: 4, ...step }));
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  }, 600_000);

  it('every registry architecture compiles to a valid plan', async () => {
    for (const name of architectureNames()) {
      const spec = architecture(name, {
        input: { height: 16, width: 16, channels: 3 },
        classes: 10,
      });
      const trainer = await compileTrainer(spec, { batch: 2, optimizer: step });
      // Each conv at least forward, filter and input gradient; each batch norm four passes.
      const convs = spec.layers.filter((l) => l.kind === 'conv').length;
      expect(trainer.dispatchesPerStep, name).toBeGreaterThan(3 * convs);
      trainer.dispose();
    }
  }, 600_000);
});
