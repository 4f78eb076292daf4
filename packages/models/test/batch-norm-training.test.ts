import { Rng, relativeError, tf, useBackend } from '@prunefuse/engine';
import { describe, expect, it } from 'vitest';
import { batchNormTraining } from '../src/batch-norm-training.js';

function normal(rng: Rng, shape: number[], scale = 1, offset = 0): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = offset + scale * rng.normal();
  return tf.tensor(values, shape);
}

const MOVING_MEAN = 1;
const MOVING_VARIANCE = 2;
const KEEP = 0.25;

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
  /** The moving statistics after one step. */
  mean: Float32Array;
  variance: Float32Array;
}

/** Forward and the gradients of sum(y * weights), by our op or by tfjs's autodiff of moments + batchNorm. */
async function run(kind: 'ours' | 'autodiff', shape: number[], seed: number): Promise<Result> {
  const rng = new Rng(seed);
  const channels = shape[shape.length - 1]!;
  // Off-centre, wide inputs: a wrong centring or variance term shows up in every output.
  const x = normal(rng, shape, 3, 2);
  const gamma = normal(rng, [channels], 0.5, 1) as tf.Tensor1D;
  const beta = normal(rng, [channels]) as tf.Tensor1D;
  const weights = normal(rng, shape);
  const stats: tf.Tensor[] = [];
  const constants = new Map<number, tf.Scalar>();
  const constant = (value: number) => {
    if (!constants.has(value)) constants.set(value, tf.keep(tf.scalar(value)));
    return constants.get(value)!;
  };
  const count = x.size / channels;
  // The tidy frees the filled tensors; the variables keep their data.
  const moving = {
    mean: tf.tidy(() => tf.variable(tf.fill([channels], MOVING_MEAN), false)),
    variance: tf.tidy(() => tf.variable(tf.fill([channels], MOVING_VARIANCE), false)),
    keep: KEEP,
  };
  const forward = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    if (kind === 'ours') {
      return batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, moving, constant);
    }
    const axes = shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(a, axes);
    // The moving statistics as PyTorch moves them: towards the unbiased batch variance.
    const blend = (start: number, value: tf.Tensor) =>
      tf.add(tf.mul(start, KEEP), tf.mul(value, 1 - KEEP));
    const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
    stats.push(tf.keep(blend(MOVING_MEAN, mean)), tf.keep(blend(MOVING_VARIANCE, unbiased)));
    return tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5);
  };
  const y = tf.tidy(() => forward(x, gamma, beta));
  if (kind === 'ours') stats.push(tf.clone(moving.mean), tf.clone(moving.variance));
  const [dx, dGamma, dBeta] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(forward(a, g, b), weights)),
  )([x, gamma, beta]) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
  const result = {
    y: await read(y),
    dx: await read(dx),
    dGamma: await read(dGamma),
    dBeta: await read(dBeta),
    mean: await read(stats[0]!),
    variance: await read(stats[1]!),
  };
  tf.dispose([x, gamma, beta, weights, y, dx, dGamma, dBeta, ...stats, ...constants.values()]);
  tf.dispose([moving.mean, moving.variance]);
  return result;
}

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
const webgpu = await useBackend('webgpu').then(
  () => true,
  () => false,
);

describe('batchNormTraining', () => {
  it.each([
    ['conv activations', [4, 5, 6, 7]],
    ['a single image', [1, 3, 3, 4]],
    ['dense features', [9, 5]],
  ])(
    '%s: output, statistics and gradients match tfjs autodiff of moments + batchNorm',
    async (_, shape) => {
      await useBackend('cpu');
      const expected = await run('autodiff', shape as number[], 3);
      const actual = await run('ours', shape as number[], 3);
      for (const key of ['y', 'mean', 'variance', 'dGamma', 'dBeta', 'dx'] as const) {
        expect(relativeError(actual[key], expected[key]), key).toBeLessThan(1e-5);
      }
    },
  );

  it.skipIf(!webgpu).each([
    ['conv activations', [4, 5, 6, 7]],
    ['a single image', [1, 3, 3, 4]],
    ['dense features', [9, 5]],
  ])('%s on webgpu (fused kernels) match cpu autodiff', async (_, shape) => {
    await useBackend('cpu');
    const expected = await run('autodiff', shape as number[], 3);
    await useBackend('webgpu');
    const actual = await run('ours', shape as number[], 3);
    for (const key of ['y', 'mean', 'variance', 'dGamma', 'dBeta', 'dx'] as const) {
      expect(relativeError(actual[key], expected[key]), key).toBeLessThan(1e-4);
    }
  });

  it('leaves no tensor behind across steps', async () => {
    await useBackend('cpu');
    await run('ours', [2, 3, 3, 4], 1);
    const tensors = tf.memory().numTensors;
    await run('ours', [2, 3, 3, 4], 2);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
