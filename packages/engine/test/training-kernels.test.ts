import { describe, expect, it } from 'vitest';
import {
  addReluKernels,
  batchNormKernels,
  Rng,
  relativeError,
  sgdKernels,
  tf,
  useBackend,
} from '../src/index.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
const webgpu = await useBackend('webgpu').then(
  () => true,
  () => false,
);

function normal(rng: Rng, size: number, scale = 1, offset = 0): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = offset + scale * rng.normal();
  return values;
}

/**
 * Batch-norm moments, output and gradients in float64 from the same float32 inputs; with
 * `relu`, of relu(batchNorm(x)).
 */
function reference(
  x: Float32Array,
  incoming: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  rows: number,
  epsilon: number,
  relu: boolean,
) {
  const channels = gamma.length;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels]! += x[i]! / rows;
  for (let i = 0; i < x.length; i++)
    variance[i % channels]! += (x[i]! - mean[i % channels]!) ** 2 / rows;
  const inverseStd = variance.map((v) => 1 / Math.sqrt(v + epsilon));
  const xHat = Float64Array.from(
    x,
    (v, i) => (v - mean[i % channels]!) * inverseStd[i % channels]!,
  );
  const normalised = xHat.map((v, i) => v * gamma[i % channels]! + beta[i % channels]!);
  const y = relu ? normalised.map((v) => Math.max(v, 0)) : normalised;
  const dy = relu ? Float64Array.from(incoming, (g, i) => (y[i]! > 0 ? g : 0)) : incoming;
  const dBeta = new Float64Array(channels);
  const dGamma = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    dBeta[i % channels]! += dy[i]!;
    dGamma[i % channels]! += dy[i]! * xHat[i]!;
  }
  const dx = Float64Array.from(x, (_, i) => {
    const c = i % channels;
    return (
      gamma[c]! * inverseStd[c]! * (dy[i]! - dBeta[c]! / rows - (xHat[i]! * dGamma[c]!) / rows)
    );
  });
  return { mean, variance, inverseStd, y, dBeta, dGamma, dx };
}

describe.skipIf(!webgpu)('fused training kernels on webgpu', () => {
  it.each([
    ['CIFAR-like activations', [4, 32, 32, 16], 0, 1e-5, false],
    ['the same followed by a ReLU', [4, 32, 32, 16], 0, 1e-5, true],
    ['channels that do not divide a workgroup', [300, 12], 0, 1e-5, false],
    ['more channels than a workgroup, with a ReLU', [37, 300], 0, 1e-5, true],
    ['a single row (zero variance)', [1, 5], 0, 1e-5, false],
    // Welford in float32 keeps the variance of off-centre data; E[x²] − E[x]² would not.
    ['far off-centre data', [8, 32, 32, 8], 1000, 2e-3, false],
  ] as const)(
    'batch norm, %s %j matches a float64 reference',
    async (_, shape, offset, tolerance, relu) => {
      const channels = shape.at(-1)!;
      const rows = shape.reduce((a: number, b: number) => a * b, 1) / channels;
      await useBackend('webgpu');
      const kernels = batchNormKernels();
      expect(kernels).not.toBeNull();
      const rng = new Rng(rows * 31 + channels);
      const xValues = normal(rng, rows * channels, 2, offset as number);
      const dyValues = normal(rng, rows * channels);
      const gammaValues = normal(rng, channels, 0.5, 1);
      const betaValues = normal(rng, channels);
      const movingValues = normal(rng, channels);
      const epsilon = 1e-5;
      const expected = reference(xValues, dyValues, gammaValues, betaValues, rows, epsilon, relu);
      const before = tf.memory().numTensors;
      const x = tf.tensor(xValues, [...shape]);
      const dy = tf.tensor(dyValues, [...shape]);
      const gamma = tf.tensor1d(gammaValues);
      const beta = tf.tensor1d(betaValues);
      const moving = tf.tensor1d(movingValues);
      const moments = kernels!.moments(x, epsilon);
      const y = kernels!.normalise(x, moments, gamma, beta, relu);
      expect(y.shape).toEqual(shape);
      const reluOutput = relu ? y : undefined;
      const gradients = kernels!.parameterGradients(dy, x, moments, reluOutput);
      const dx = kernels!.inputGradient(dy, x, moments, gamma, gradients, reluOutput);
      expect(dx.shape).toEqual(shape);
      const movingVariance = kernels!.movingAverage(moving, moments, 'variance', 0.9, 2);
      const movingMean = kernels!.movingAverage(moving, moments, 'mean', 0.9, 1);
      const m = await moments.data();
      const row = (r: number) => m.slice(r * channels, (r + 1) * channels);
      expect(moments.shape).toEqual([3, channels]);
      expect(relativeError(row(0), expected.mean)).toBeLessThan(1e-5);
      expect(relativeError(row(1), expected.variance)).toBeLessThan(tolerance as number);
      expect(relativeError(row(2), expected.inverseStd)).toBeLessThan(tolerance as number);
      expect(relativeError(await y.data(), expected.y)).toBeLessThan(tolerance as number);
      expect(relativeError(await gradients.dBeta.data(), expected.dBeta)).toBeLessThan(1e-5);
      expect(relativeError(await gradients.dGamma.data(), expected.dGamma)).toBeLessThan(
        tolerance as number,
      );
      expect(relativeError(await dx.data(), expected.dx)).toBeLessThan(tolerance as number);
      const moved = (statistic: Float64Array, scale: number) =>
        Array.from(movingValues, (v, c) => 0.9 * v + 0.1 * scale * statistic[c]!);
      expect(relativeError(await movingMean.data(), moved(expected.mean, 1))).toBeLessThan(1e-5);
      expect(relativeError(await movingVariance.data(), moved(expected.variance, 2))).toBeLessThan(
        tolerance as number,
      );
      tf.dispose([x, dy, gamma, beta, moving, moments, y, gradients.dGamma, gradients.dBeta, dx]);
      tf.dispose([movingMean, movingVariance]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it.each([
    ['with momentum and weight decay, a conv kernel', 0.9, 5e-4, [3, 3, 5, 7]],
    ['plain SGD (no velocity), a bias', 0, 0.1, [7]],
    ['with momentum, a scalar', 0.5, 0, []],
  ])('SGD, %s: direction and descent match the formula', async (_, momentum, decay, shape) => {
    await useBackend('webgpu');
    const kernels = sgdKernels();
    expect(kernels).not.toBeNull();
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const rng = new Rng(5);
    const [g, w, v] = [normal(rng, size), normal(rng, size), normal(rng, size)];
    const tensors = [g, w, v].map((values) => tf.tensor(values, shape));
    const direction = kernels!.direction(
      tensors[0]!,
      tensors[1]!,
      momentum > 0 ? tensors[2]! : null,
      momentum,
      decay,
    );
    const next = kernels!.descend(tensors[1]!, direction, 0.05);
    const expectedDirection = Array.from(g, (gi, i) => gi + decay * w[i]! + momentum * v[i]!);
    expect(direction.shape).toEqual(shape);
    expect(next.shape).toEqual(shape);
    expect(relativeError(await direction.data(), expectedDirection)).toBeLessThan(1e-6);
    expect(
      relativeError(
        await next.data(),
        Array.from(w, (wi, i) => wi - 0.05 * expectedDirection[i]!),
      ),
    ).toBeLessThan(1e-6);
    tf.dispose([...tensors, direction, next]);
  });
  it('residual ReLU: forward and gradient match relu(a + b) and its mask', async () => {
    await useBackend('webgpu');
    const kernels = addReluKernels();
    expect(kernels).not.toBeNull();
    const shape = [2, 5, 5, 7];
    const size = 2 * 5 * 5 * 7;
    const rng = new Rng(11);
    const [a, b, dy] = [normal(rng, size), normal(rng, size), normal(rng, size)];
    // Exact zeros get no gradient, as tfjs's ReLU gradient (step(x) = x > 0) gives none.
    a[0] = 0.5;
    b[0] = -0.5;
    const tensors = [a, b, dy].map((values) => tf.tensor(values, shape));
    const y = kernels!.forward(tensors[0]!, tensors[1]!);
    const g = kernels!.gradient(tensors[2]!, y);
    expect(y.shape).toEqual(shape);
    const sums = Array.from(a, (ai, i) => Math.fround(ai + b[i]!));
    expect(Array.from(await y.data())).toEqual(sums.map((v) => Math.max(v, 0)));
    expect(Array.from(await g.data())).toEqual(Array.from(dy, (d, i) => (sums[i]! > 0 ? d : 0)));
    tf.dispose([...tensors, y, g]);
  });
});

describe('fused training kernels elsewhere', () => {
  it('are absent on backends without them, so callers compose tfjs ops instead', async () => {
    await useBackend('cpu');
    expect(batchNormKernels()).toBeNull();
    expect(sgdKernels()).toBeNull();
    expect(addReluKernels()).toBeNull();
  });
});
