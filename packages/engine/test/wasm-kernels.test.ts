import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, relativeError, tf, useBackend } from '../src/index.js';

type Backend = 'cpu' | 'wasm';

function randomValues(seed: number, size: number): Float32Array {
  const rng = new Rng(seed);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal();
  return values;
}

/**
 * Runs `op` on seeded inputs of the given shapes on one backend and reads back its
 * result; `op` gets tensors created on that backend.
 */
async function evaluate(
  backend: Backend,
  shapes: number[][],
  op: (...inputs: tf.Tensor[]) => tf.Tensor,
): Promise<{ values: Float32Array | Int32Array | Uint8Array; shape: number[]; dtype: string }> {
  await useBackend(backend);
  const inputs = shapes.map((shape, i) =>
    tf.tensor(randomValues(i + 1, tf.util.sizeFromShape(shape)), shape),
  );
  const out = op(...inputs);
  const result = { values: (await out.data()) as Float32Array, shape: out.shape, dtype: out.dtype };
  tf.dispose([...inputs, out]);
  return result;
}

async function expectSameOnBoth(shapes: number[][], op: (...inputs: tf.Tensor[]) => tf.Tensor) {
  const expected = await evaluate('cpu', shapes, op);
  const actual = await evaluate('wasm', shapes, op);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  expect(relativeError(actual.values, expected.values)).toBeLessThan(1e-5);
}

describe('wasm replacement kernels agree with the cpu backend', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it.each([
    { name: 'per-channel vector over NHWC', x: [1, 1, 1, 5], reps: [3, 4, 2, 1] },
    { name: 'every axis repeated', x: [2, 3, 1, 2], reps: [2, 1, 3, 2] },
    { name: 'rank 1', x: [7], reps: [3] },
    { name: 'rank 2, inner axis kept', x: [3, 5], reps: [4, 1] },
  ])('Tile: $name', async ({ x, reps }) => {
    await expectSameOnBoth([x], (a) => tf.tile(a!, reps));
  });

  it('Tile of int32 keeps the values exactly', async () => {
    await expectSameOnBoth([[2, 3]], (a) => tf.tile(tf.cast(tf.mul(a!, 100), 'int32'), [3, 2]));
  });

  it.each([
    {
      name: 'leading axes (batch-norm statistics)',
      shape: [4, 5, 3, 6],
      axes: [0, 1, 2],
      keepDims: false,
    },
    { name: 'leading axes, keepDims', shape: [4, 5, 3, 6], axes: [0, 1, 2], keepDims: true },
    {
      name: 'spatial axes (global average pooling)',
      shape: [3, 5, 4, 7],
      axes: [1, 2],
      keepDims: false,
    },
    { name: 'batch axis of a matrix', shape: [33, 10], axes: [0], keepDims: false },
    { name: 'innermost axis (stock path)', shape: [3, 4, 5], axes: [2], keepDims: false },
    { name: 'every axis', shape: [3, 4, 5], axes: [0, 1, 2], keepDims: false },
    { name: 'non-contiguous axes (stock path)', shape: [3, 4, 5, 2], axes: [0, 2], keepDims: true },
  ])('Sum and Mean: $name', async ({ shape, axes, keepDims }) => {
    await expectSameOnBoth([shape], (a) => tf.sum(a!, axes, keepDims));
    await expectSameOnBoth([shape], (a) => tf.mean(a!, axes, keepDims));
  });

  it('Sum over a large batch stays accurate', async () => {
    await expectSameOnBoth([[64, 32, 32, 8]], (a) => tf.sum(tf.add(a!, 3), [0, 1, 2]));
  });

  const binaryCases = [
    { name: 'activations op channel vector', a: [2, 3, 4, 5], b: [5] },
    { name: 'channel vector op activations', a: [5], b: [2, 3, 4, 5] },
    { name: 'keepDims statistics', a: [2, 3, 4, 5], b: [1, 1, 1, 5] },
    { name: 'scalar', a: [2, 3, 4, 5], b: [] },
    { name: 'same shape (stock path)', a: [2, 3, 4, 5], b: [2, 3, 4, 5] },
    { name: 'row broadcast (stock path)', a: [4, 5], b: [4, 1] },
  ];
  it.each(binaryCases)('Multiply, Add, Sub: $name', async ({ a, b }) => {
    await expectSameOnBoth([a, b], (x, y) => tf.mul(x!, y!));
    await expectSameOnBoth([a, b], (x, y) => tf.add(x!, y!));
    await expectSameOnBoth([a, b], (x, y) => tf.sub(x!, y!));
  });

  it.each(binaryCases)('RealDiv: $name', async ({ a, b }) => {
    // Divisors kept away from zero so that the comparison measures the kernel, not 1/0.
    await expectSameOnBoth([a, b], (x, y) => tf.div(x!, tf.add(tf.abs(y!), 0.5)));
  });

  it('binary kernels on int32 go to the stock kernels', async () => {
    await expectSameOnBoth([[2, 3, 4], [4]], (x, y) =>
      tf.mul(tf.cast(tf.mul(x!, 10), 'int32'), tf.cast(tf.mul(y!, 10), 'int32')),
    );
  });

  it.each([
    { name: 'all parameters', withOffset: true, withScale: true },
    { name: 'no offset, no scale', withOffset: false, withScale: false },
  ])('FusedBatchNorm: $name', async ({ withOffset, withScale }) => {
    await expectSameOnBoth([[3, 4, 5, 6], [6], [6], [6], [6]], (x, mean, variance, offset, scale) =>
      tf.batchNorm(
        x!,
        mean!,
        tf.add(tf.abs(variance!), 0.1),
        withOffset ? offset! : undefined,
        withScale ? scale! : undefined,
        1e-3,
      ),
    );
  });

  it('FusedBatchNorm with keepDims statistics from tf.moments', async () => {
    await expectSameOnBoth([[4, 3, 3, 5]], (x) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2], true);
      return tf.batchNorm(x!, mean, variance, undefined, undefined, 1e-5);
    });
  });

  it.each([
    { name: 'A transposed', a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
    { name: 'B transposed', a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
    { name: 'both transposed', a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
    {
      name: 'batched, A transposed',
      a: [2, 7, 5],
      b: [2, 7, 3],
      transposeA: true,
      transposeB: false,
    },
    { name: 'neither (stock path)', a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  ])('BatchMatMul: $name', async ({ a, b, transposeA, transposeB }) => {
    await expectSameOnBoth([a, b], (x, y) => tf.matMul(x!, y!, transposeA, transposeB));
  });

  it('Identity shares memory yet each tensor can be disposed on its own', async () => {
    await useBackend('wasm');
    const dataIds = tf.engine().backend.numDataIds();
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds + 1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });

  it('every replacement kernel frees its intermediates', async () => {
    await useBackend('wasm');
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor(randomValues(3, 2 * 3 * 4 * 5), [2, 3, 4, 5]);
        const v = tf.tensor(randomValues(4, 5), [5]);
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return [
          tf.tile(v.reshape([1, 1, 1, 5]), [2, 3, 4, 1]),
          tf.sum(x, [0, 1, 2]),
          tf.mean(x, [1, 2]),
          tf.mul(x, v),
          tf.add(v, x),
          tf.sub(x, v),
          tf.div(x, tf.add(tf.abs(v), 1)),
          tf.batchNorm(x, mean, variance, v, v),
          tf.matMul(x.reshape([24, 5]), x.reshape([24, 5]), true, false),
        ];
      });
    tf.dispose(run());
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    tf.dispose(run());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });
});
