import { type BenchCase, tf } from '@prunefuse/engine';
import { architecture } from './architectures/registry.js';
import { buildNetwork } from './build.js';
import type { InputShape } from './spec.js';
import { BENCH_INPUT_SHAPES, seededImages, trainingStepFixture } from './training-step.js';

const BATCH = 128;
const CLASSES = 10;

interface Shape {
  label: string;
  input: InputShape;
}

const SHAPES: readonly Shape[] = Object.entries(BENCH_INPUT_SHAPES).map(([label, input]) => ({
  label,
  input,
}));

/**
 * One SGD-momentum step of a ResNet on a batch of 128 (forward in training mode, backward,
 * update): images/s of training. The cpu backend needs minutes per step, hence slow.
 */
function trainCase(arch: string, { label, input }: Shape, speed = DEFAULT_SPEED): BenchCase {
  return {
    name: caseName(arch, 'train', label, input),
    ...speed,
    images: BATCH,
    prepare() {
      const fixture = trainingStepFixture({ arch, input, batch: BATCH });
      return {
        async run() {
          fixture.step().dispose();
          await fixture.ready();
        },
        dispose: () => fixture.dispose(),
      };
    },
  };
}

/** Inference (batch-norm folded into the convs) on a batch of 128, logits read back. */
function inferCase(arch: string, { label, input }: Shape, speed = DEFAULT_SPEED): BenchCase {
  return {
    name: caseName(arch, 'infer', label, input),
    ...speed,
    images: BATCH,
    prepare() {
      const net = buildNetwork(architecture(arch, { input, classes: CLASSES }), 1);
      const x = seededImages(input, BATCH, 2);
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

/** The name a PyTorch reference row must carry to sit beside this case. */
function caseName(arch: string, mode: 'train' | 'infer', label: string, input: InputShape): string {
  return `model/${arch}/${mode}/${label}/${BATCH}x${input.height}x${input.width}x${input.channels}`;
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
