import { runBench, tf, useBackend } from '@prunefuse/engine';
import { describe, expect, it } from 'vitest';
import {
  architecture,
  architectureNames,
  compareTrainingStep,
  modelBenchCases,
  modelBenchWorkloads,
  trainingStepFixture,
  weightSpecs,
} from '../src/index.js';

describe('training on the wasm backend', () => {
  it.each(architectureNames())(
    '%s trains a step on wasm: finite loss, every trainable weight moves, nothing leaks',
    async (arch) => {
      await useBackend('wasm');
      const input =
        arch === 'resnet8-digits'
          ? { height: 12, width: 12, channels: 1 }
          : { height: 16, width: 16, channels: 3 };
      const fixture = trainingStepFixture({ arch, input, batch: 2, learningRate: 0.1 });
      const read = () =>
        new Map([...fixture.network.variables].map(([name, v]) => [name, v.dataSync().slice()]));
      const before = read();
      const loss = fixture.step();
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
      loss.dispose();
      const after = read();
      // The first step allocates the momentum accumulators and the network's scalars;
      // a later step leaves nothing behind.
      const tensors = tf.memory().numTensors;
      fixture.step().dispose();
      expect(tf.memory().numTensors).toBe(tensors);
      const unchanged = [...fixture.network.variables]
        .filter(([, variable]) => variable.trainable)
        .map(([name]) => name)
        .filter((name) => after.get(name)!.every((value, i) => value === before.get(name)![i]));
      expect(unchanged).toEqual([]);
      fixture.dispose();
    },
  );

  it('a ResNet-20 step on wasm gives the cpu backend loss and updated weights', async () => {
    const agreement = await compareTrainingStep({
      arch: 'resnet20',
      input: { height: 8, width: 8, channels: 3 },
      batch: 4,
      backend: 'wasm',
      reference: 'cpu',
    });
    expect(agreement.loss.relativeError).toBeLessThan(1e-5);
    const spec = architecture('resnet20', {
      input: { height: 8, width: 8, channels: 3 },
      classes: 10,
    });
    expect(agreement.updates).toHaveLength(weightSpecs(spec).length);
    // The update itself (new minus old weights) must agree, not just the weights.
    const worst = agreement.updates[0]!;
    expect(worst.relativeError, `worst-matching weight: ${worst.name}`).toBeLessThan(2e-4);
  });
});

describe('modelBenchCases', () => {
  it('measures ResNet-20 training and inference at CIFAR and MNIST shapes, ResNet-56 on GPUs', async () => {
    const cases = modelBenchCases();
    const names = cases.map((c) => c.name);
    expect(names).toEqual([
      'model/resnet20/train/cifar/128x32x32x3',
      'model/resnet20/infer/cifar/128x32x32x3',
      'model/resnet20/train/mnist/128x28x28x1',
      'model/resnet20/infer/mnist/128x28x28x1',
      'model/resnet56/train/cifar/128x32x32x3',
      'model/resnet56/infer/cifar/128x32x32x3',
    ]);
    for (const resnet56 of cases.slice(4)) {
      expect(resnet56.backends).not.toContain('wasm');
      expect(resnet56.slowBackends).toContain('wasm');
    }
    await useBackend('wasm');
    const tensors = tf.memory().numTensors;
    const rows = await runBench(modelBenchCases(), {
      filter: '/mnist/',
      backends: ['wasm'],
      timeMs: 1,
      iterations: 1,
    });
    expect(rows.map((r) => r.name)).toEqual(names.slice(2, 4));
    for (const row of rows) expect(row.imagesPerSec).toBeCloseTo(row.opsPerSec * 128, 6);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('at another batch size, names and counts images by it (the PyTorch twin reads it from the name)', () => {
    const workloads = modelBenchWorkloads({ batch: 4 });
    const cases = modelBenchCases({ batch: 4 });
    expect(cases.map((c) => c.name)).toEqual(workloads.map((w) => w.name));
    expect(cases[0]!.name).toBe('model/resnet20/train/cifar/4x32x32x3');
    for (const c of cases) expect(c.images).toBe(4);
    expect(workloads.map((w) => w.mode)).toEqual([
      'train',
      'infer',
      'train',
      'infer',
      'train',
      'infer',
    ]);
  });
});
