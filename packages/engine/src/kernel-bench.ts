import type { BackendName } from './backends.js';
import { type BenchCase, tensorReady } from './bench.js';
import { Rng } from './seed.js';
import { tf } from './tf.js';

type Shape4 = [number, number, number, number];

interface ConvGeometry {
  x: Shape4;
  filter: Shape4;
  stride: number;
}

const FAST: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm'];

function seeded(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const values = new Float32Array(tf.util.sizeFromShape(shape));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return tf.tensor(values, shape);
}

function label({ x, filter, stride }: ConvGeometry): string {
  const [kh, kw, , k] = filter;
  return `${x.join('x')}-${kh}x${kw}x${k}${stride === 1 ? '' : `-s${stride}`}`;
}

type ConvPass = 'forward' | 'input-grad' | 'filter-grad';

/**
 * One pass of a 'same' convolution: the forward conv or one of the two gradients the
 * backward pass computes, each counted as 2 * (output elements) * kh * kw * C flops.
 */
function convCase(geometry: ConvGeometry, pass: ConvPass, cpu: 'default' | 'slow'): BenchCase {
  const { x: xShape, filter: filterShape, stride } = geometry;
  const [n, h, w] = xShape;
  const [kh, kw, c, k] = filterShape;
  const outElements = n * Math.ceil(h / stride) * Math.ceil(w / stride) * k;
  const kernel = {
    forward: 'conv2d',
    'input-grad': 'conv2d-input-grad',
    'filter-grad': 'conv2d-filter-grad',
  }[pass];
  return {
    name: `kernel/${kernel}/${label(geometry)}`,
    backends: cpu === 'default' ? [...FAST, 'cpu'] : FAST,
    slowBackends: cpu === 'slow' ? ['cpu'] : [],
    flops: 2 * outElements * kh * kw * c,
    prepare() {
      const x = seeded(xShape, 1) as tf.Tensor4D;
      const filter = seeded(filterShape, 2) as tf.Tensor4D;
      const dy = seeded([n, Math.ceil(h / stride), Math.ceil(w / stride), k], 3) as tf.Tensor4D;
      const body = {
        forward: () => tf.conv2d(x, filter, stride, 'same'),
        'input-grad': () => tf.conv2dTranspose(dy, filter, xShape, stride, 'same'),
        'filter-grad': () =>
          tf.engine().runKernel(
            tf.Conv2DBackpropFilter,
            { x, dy },
            {
              strides: stride,
              pad: 'same',
              dataFormat: 'NHWC',
              filterShape,
            },
          ) as tf.Tensor,
      }[pass];
      return {
        async run() {
          const out = body();
          await tensorReady(out);
          out.dispose();
        },
        dispose() {
          tf.dispose([x, filter, dy]);
        },
      };
    },
  };
}

/** A matrix product, plain or with the first operand transposed (a dense layer's weight gradient). */
function matMulCase(m: number, kDim: number, nDim: number, transposeA: boolean): BenchCase {
  return {
    name: `kernel/matmul${transposeA ? '-transposed-a' : ''}/${m}x${kDim}x${nDim}`,
    backends: FAST,
    slowBackends: ['cpu'],
    flops: 2 * m * kDim * nDim,
    prepare() {
      const a = seeded(transposeA ? [kDim, m] : [m, kDim], 1) as tf.Tensor2D;
      const b = seeded([kDim, nDim], 2) as tf.Tensor2D;
      return {
        async run() {
          const out = tf.matMul(a, b, transposeA, false);
          await tensorReady(out);
          out.dispose();
        },
        dispose() {
          tf.dispose([a, b]);
        },
      };
    },
  };
}

/**
 * The kernels a convnet training step spends its time in, in GFLOP/s. The first geometry
 * is the reference case of the wasm kernel work (a ResNet first-stage conv); the others
 * are the strided and 1x1 shortcut convs where a stage halves its resolution. On the cpu
 * backend only the first geometry's forward and input-gradient passes take under a second.
 */
export function kernelBenchCases(): BenchCase[] {
  const reference: ConvGeometry = { x: [64, 32, 32, 16], filter: [3, 3, 16, 16], stride: 1 };
  const strided: ConvGeometry = { x: [128, 32, 32, 16], filter: [3, 3, 16, 32], stride: 2 };
  const shortcut: ConvGeometry = { x: [128, 32, 32, 16], filter: [1, 1, 16, 32], stride: 2 };
  return [
    convCase(reference, 'forward', 'default'),
    convCase(reference, 'input-grad', 'default'),
    convCase(reference, 'filter-grad', 'slow'),
    ...[strided, shortcut].flatMap((geometry) =>
      (['forward', 'input-grad', 'filter-grad'] as const).map((pass) =>
        convCase(geometry, pass, 'slow'),
      ),
    ),
    matMulCase(1024, 1024, 1024, false),
    matMulCase(1024, 1024, 1024, true),
  ];
}
