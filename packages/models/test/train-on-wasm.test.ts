import { Rng, runBench, tf, useBackend } from '@prunefuse/engine';
import { describe, expect, it } from 'vitest';
import {
  architecture,
  architectureNames,
  buildNetwork,
  type InputShape,
  modelBenchCases,
} from '../src/index.js';

const CLASSES = 10;

function batch(input: InputShape, size: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const pixels = new Float32Array(size * input.height * input.width * input.channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.normal();
  const labels = Int32Array.from({ length: size }, () => rng.int(0, CLASSES - 1));
  return {
    x: tf.tensor4d(pixels, [size, input.height, input.width, input.channels]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES) as tf.Tensor2D),
  };
}

interface StepResult {
  loss: number;
  /** Every variable after the step, trainable or not (batch-norm moving statistics too). */
  weights: Map<string, Float32Array>;
  before: Map<string, Float32Array>;
}

/** One SGD-momentum step of `arch` from its seed-1 initialisation on a seeded batch. */
async function trainingStep(
  backend: 'cpu' | 'wasm',
  arch: string,
  input: InputShape,
  batchSize: number,
): Promise<StepResult> {
  await useBackend(backend);
  const net = buildNetwork(architecture(arch, { input, classes: CLASSES }), 1);
  const { x, y } = batch(input, batchSize, 2);
  const optimizer = tf.train.momentum(0.1, 0.9);
  const read = () =>
    new Map([...net.variables].map(([name, v]) => [name, v.dataSync() as Float32Array]));
  const before = read();
  const tensors = tf.memory().numTensors;
  const loss = optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }).logits) as tf.Scalar,
    true,
    net.trainableVariables(),
  )!;
  const result = { loss: (await loss.data())[0]!, weights: read(), before };
  loss.dispose();
  // All the step leaves behind is one momentum accumulator per trainable variable.
  expect(tf.memory().numTensors).toBe(tensors + net.trainableVariables().length);
  tf.dispose([x, y]);
  optimizer.dispose();
  net.dispose();
  return result;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

describe('training on the wasm backend', () => {
  it.each(architectureNames())(
    '%s trains a step on wasm: finite loss, every trainable weight moves',
    async (arch) => {
      const input =
        arch === 'resnet8-digits'
          ? { height: 12, width: 12, channels: 1 }
          : { height: 16, width: 16, channels: 3 };
      const { loss, weights, before } = await trainingStep('wasm', arch, input, 2);
      expect(Number.isFinite(loss)).toBe(true);
      const trainable = [...weights.keys()].filter((name) => !/moving(Mean|Variance)$/.test(name));
      const unchanged = trainable.filter(
        (name) => relativeError(weights.get(name)!, before.get(name)!) === 0,
      );
      expect(unchanged).toEqual([]);
    },
  );

  it('a ResNet-20 step on wasm gives the cpu backend loss and updated weights', async () => {
    const input = { height: 8, width: 8, channels: 3 };
    const cpu = await trainingStep('cpu', 'resnet20', input, 4);
    const wasm = await trainingStep('wasm', 'resnet20', input, 4);
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-5);
    expect([...wasm.weights.keys()]).toEqual([...cpu.weights.keys()]);
    // The update itself (new minus old weights) must agree, not just the weights.
    const errors = [...cpu.weights].map(([name, expected]) => {
      const before = cpu.before.get(name)!;
      const update = (w: Float32Array) => w.map((v, i) => v - before[i]!);
      return { name, error: relativeError(update(wasm.weights.get(name)!), update(expected)) };
    });
    const worst = errors.reduce((a, b) => (b.error > a.error ? b : a));
    expect(worst.error, `worst-matching weight: ${worst.name}`).toBeLessThan(2e-4);
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
    // tfjs's MomentumOptimizer.dispose() does not free its learning-rate scalar (it does not
    // call SGDOptimizer.dispose); that one tensor per training case is all that remains.
    expect(tf.memory().numTensors).toBe(tensors + 1);
  });
});
