import { describe, expect, it } from 'vitest';
import { type BackendName, Rng, relativeError, tf, useBackend } from '../src/index.js';

/**
 * The backends whose convolution gradients are ours: wasm always, webgpu where Dawn finds
 * an adapter (a GPU, or Mesa's llvmpipe, which runs the same shaders on the CPU).
 */
const BACKENDS: BackendName[] = [
  'wasm',
  ...((await useBackend('webgpu').then(
    () => true,
    () => false,
  ))
    ? (['webgpu'] as const)
    : []),
];

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number | [number, number];
  pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding;
}

const CASES: ConvCase[] = [
  { name: '3x3 stride 1 same', x: [2, 8, 8, 4], filter: [3, 3, 4, 5], stride: 1, pad: 'same' },
  { name: '3x3 stride 1 valid', x: [2, 9, 7, 3], filter: [3, 3, 3, 6], stride: 1, pad: 'valid' },
  {
    name: '3x3 stride 2 same, even size',
    x: [2, 8, 8, 4],
    filter: [3, 3, 4, 8],
    stride: 2,
    pad: 'same',
  },
  {
    name: '3x3 stride 2 same, odd size',
    x: [3, 7, 9, 5],
    filter: [3, 3, 5, 3],
    stride: 2,
    pad: 'same',
  },
  {
    name: '3x3 stride 2 valid, odd size',
    x: [2, 9, 7, 3],
    filter: [3, 3, 3, 5],
    stride: 2,
    pad: 'valid',
  },
  {
    name: '3x3 stride 2 valid, rows left over',
    x: [2, 8, 10, 3],
    filter: [3, 3, 3, 2],
    stride: 2,
    pad: 'valid',
  },
  { name: '1x1 stride 1', x: [2, 5, 6, 7], filter: [1, 1, 7, 3], stride: 1, pad: 'same' },
  {
    name: '1x1 stride 2 shortcut, even size',
    x: [2, 8, 8, 6],
    filter: [1, 1, 6, 10],
    stride: 2,
    pad: 'same',
  },
  {
    name: '1x1 stride 2 valid, odd size',
    x: [2, 7, 5, 3],
    filter: [1, 1, 3, 5],
    stride: 2,
    pad: 'valid',
  },
  { name: 'batch 1, non-square', x: [1, 6, 11, 3], filter: [3, 3, 3, 7], stride: 1, pad: 'same' },
  {
    name: 'long reduction split into chunks, last one short',
    x: [3, 13, 11, 5],
    filter: [3, 3, 5, 7],
    stride: 1,
    pad: 'same',
  },
  {
    name: 'CIFAR stage shape, many chunks and output tiles',
    x: [8, 16, 16, 20],
    filter: [3, 3, 20, 36],
    stride: 1,
    pad: 'same',
  },
  { name: '5x5 stride 3 same', x: [2, 11, 10, 2], filter: [5, 5, 2, 3], stride: 3, pad: 'same' },
  { name: '7x7 stride 2 stem', x: [1, 16, 16, 3], filter: [7, 7, 3, 8], stride: 2, pad: 'same' },
  {
    name: '2x3 filter, strides 2x1',
    x: [2, 9, 8, 3],
    filter: [2, 3, 3, 4],
    stride: [2, 1],
    pad: 'valid',
  },
  {
    name: 'explicit padding',
    x: [2, 6, 7, 3],
    filter: [3, 3, 3, 2],
    stride: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
  },
];

function randomTensor(rng: Rng, shape: number[]): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return tf.tensor(values, shape);
}

interface Gradients {
  dx: Float32Array;
  dw: Float32Array;
  dxShape: number[];
  dwShape: number[];
}

/** Gradients of sum(conv2d(x, w) * dy), i.e. the backprop kernels applied to dy. */
async function gradients(backend: BackendName, c: ConvCase, seed: number): Promise<Gradients> {
  await useBackend(backend);
  const rng = new Rng(seed);
  const x = randomTensor(rng, c.x) as tf.Tensor4D;
  const w = randomTensor(rng, c.filter) as tf.Tensor4D;
  const yShape = tf.tidy(() => tf.conv2d(x, w, c.stride, c.pad).shape);
  const dy = randomTensor(rng, yShape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)),
  )([x, w]) as [tf.Tensor, tf.Tensor];
  const result = {
    dx: (await dx.data()) as Float32Array,
    dw: (await dw.data()) as Float32Array,
    dxShape: dx.shape,
    dwShape: dw.shape,
  };
  tf.dispose([x, w, dy, dx, dw]);
  return result;
}

describe.each(BACKENDS)('%s convolution gradient kernels', (backend) => {
  it.each(CASES)('$name: input and filter gradients match the cpu backend', async (c) => {
    const expected = await gradients('cpu', c, 7);
    const actual = await gradients(backend, c, 7);
    expect(actual.dxShape).toEqual(c.x);
    expect(actual.dwShape).toEqual(c.filter);
    expect(relativeError(actual.dx, expected.dx)).toBeLessThan(1e-4);
    expect(relativeError(actual.dw, expected.dw)).toBeLessThan(1e-4);
  });

  it('leaves no tensor and no backend data behind', async () => {
    const c = CASES[3]!;
    await gradients(backend, c, 1);
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    await gradients(backend, c, 2);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });
});
