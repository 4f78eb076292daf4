import { relativeError, useBackend } from '@prunefuse/engine';
import { architecture, initialWeights, networkFromWeights } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../src/index.js';
import {
  compareWithCpu,
  seededBatch,
  webgpuAvailable,
  withConvWidths,
  worst,
} from './reference.js';

const webgpu = await webgpuAvailable();
const spec = architecture('resnet20', { input: { height: 8, width: 8, channels: 3 }, classes: 10 });

describe.skipIf(!webgpu)('a compiled ResNet-20 training step against the tfjs cpu backend', () => {
  // The first test compiles every pipeline of a step: on llvmpipe with a cold shader cache
  // and a busy machine that took over two minutes once.
  it('at 8x8, batch 4: loss, every updated weight and moving statistic', async () => {
    const result = worst(
      await compareWithCpu({ spec, batch: 4, seed: 7, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
    );
    expect(result.loss).toBeLessThan(1e-5);
    expect(result.relativeError, `worst-matching weight: ${result.name}`).toBeLessThan(1e-3);
  }, 600_000);

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

  it('a teacher compiled into the step gives the same update as its logits passed in', async () => {
    await useBackend('webgpu');
    const loss = { kind: 'distillation', lambda: 0.5, temperature: 2 } as const;
    const optimizer = { momentum: 0.9, weightDecay: 5e-4 };
    const teacherSpec = withConvWidths(spec, (_, f) => f + 3);
    const teacherNetwork = networkFromWeights(teacherSpec, initialWeights(teacherSpec, 8));
    const teacher = await compileTrainer(teacherSpec, { batch: 4, optimizer });
    await teacher.uploadWeights(teacherNetwork);
    const trainedWeights: Float32Array[][] = [];
    for (const linked of [false, true]) {
      const network = networkFromWeights(spec, initialWeights(spec, 9));
      const student = await compileTrainer(spec, {
        batch: 4,
        loss,
        optimizer,
        ...(linked ? { teacher } : {}),
      });
      await student.uploadWeights(network);
      for (const [s, examples] of [4, 3].entries()) {
        const data = seededBatch(spec, examples, 40 + s);
        const teacherLogits = linked ? undefined : (await teacher.predict(data.images)).logits;
        student.step({
          images: data.images,
          labels: data.labels,
          lr: 0.1,
          ...(teacherLogits ? { teacherLogits } : {}),
        });
      }
      expect((await student.readMetrics()).examples).toBe(7);
      student.downloadWeights(network);
      student.dispose();
      trainedWeights.push(
        await Promise.all(
          [...network.variables.values()].map(async (v) => (await v.data()) as Float32Array),
        ),
      );
      network.dispose();
    }
    teacher.dispose();
    teacherNetwork.dispose();
    const [passed, compiledIn] = trainedWeights as [Float32Array[], Float32Array[]];
    passed.forEach((w, i) => {
      expect(relativeError(compiledIn[i]!, w)).toBeLessThan(1e-6);
    });
  });
});
