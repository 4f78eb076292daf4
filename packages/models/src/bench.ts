import { type BenchCase, Rng, tensorReady, tf } from '@prunefuse/engine';
import { architecture } from './architectures/registry.js';
import { buildNetwork } from './build.js';
import type { InputShape } from './spec.js';

const BATCH = 128;
const CLASSES = 10;

interface Shape {
  label: string;
  input: InputShape;
}

const SHAPES: readonly Shape[] = [
  { label: 'cifar', input: { height: 32, width: 32, channels: 3 } },
  { label: 'mnist', input: { height: 28, width: 28, channels: 1 } },
];

/** A seeded batch of normal pixels. */
function images(input: InputShape, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const pixels = new Float32Array(BATCH * input.height * input.width * input.channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.normal();
  return tf.tensor4d(pixels, [BATCH, input.height, input.width, input.channels]);
}

/** Seeded uniform labels, one-hot. */
function labels(seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const classes = Int32Array.from({ length: BATCH }, () => rng.int(0, CLASSES - 1));
  return tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), CLASSES) as tf.Tensor2D);
}

/**
 * One SGD-momentum step of ResNet-20 on a batch of 128 (forward in training mode, backward,
 * update): images/s of training. The cpu backend needs minutes per step, hence slow.
 */
function trainCase(arch: string, { label, input }: Shape, speed = DEFAULT_SPEED): BenchCase {
  return {
    name: `model/${arch}/train/${label}/${BATCH}x${input.height}x${input.width}x${input.channels}`,
    ...speed,
    images: BATCH,
    prepare() {
      const net = buildNetwork(architecture(arch, { input, classes: CLASSES }), 1);
      const x = images(input, 2);
      const y = labels(3);
      const optimizer = tf.train.momentum(0.01, 0.9);
      const variables = net.trainableVariables();
      return {
        async run() {
          optimizer.minimize(
            () =>
              tf.losses.softmaxCrossEntropy(
                y,
                net.apply(x, { training: true }).logits,
              ) as tf.Scalar,
            false,
            variables,
          );
          // Reading an updated weight waits for the whole step on asynchronous backends.
          await tensorReady(variables[variables.length - 1]!);
        },
        dispose() {
          optimizer.dispose();
          net.dispose();
          tf.dispose([x, y]);
        },
      };
    },
  };
}

/** Inference (batch-norm folded into the convs) on a batch of 128, logits read back. */
function inferCase(arch: string, { label, input }: Shape, speed = DEFAULT_SPEED): BenchCase {
  return {
    name: `model/${arch}/infer/${label}/${BATCH}x${input.height}x${input.width}x${input.channels}`,
    ...speed,
    images: BATCH,
    prepare() {
      const net = buildNetwork(architecture(arch, { input, classes: CLASSES }), 1);
      const x = images(input, 2);
      return {
        async run() {
          const { logits, features } = net.apply(x, { training: false });
          await logits.data();
          tf.dispose([logits, features]);
        },
        dispose() {
          net.dispose();
          x.dispose();
        },
      };
    },
  };
}

/** Which backends run a case by default, and which only with --slow. */
type Speed = Pick<BenchCase, 'backends' | 'slowBackends'>;

const DEFAULT_SPEED: Speed = { backends: ['tensorflow', 'webgpu', 'wasm'], slowBackends: ['cpu'] };

/** ResNet-56 takes seconds per batch-128 step on two CPU cores: a GPU case by default. */
const GPU_SPEED: Speed = { backends: ['tensorflow', 'webgpu'], slowBackends: ['wasm', 'cpu'] };

/**
 * End-to-end ResNet-20 training and inference throughput at CIFAR and MNIST shapes, and
 * ResNet-56 at CIFAR shape (the paper's target, the GPU issue's figure).
 */
export function modelBenchCases(): BenchCase[] {
  const [cifar] = SHAPES;
  return [
    ...SHAPES.flatMap((shape) => [trainCase('resnet20', shape), inferCase('resnet20', shape)]),
    trainCase('resnet56', cifar!, GPU_SPEED),
    inferCase('resnet56', cifar!, GPU_SPEED),
  ];
}
