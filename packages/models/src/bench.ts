import { type BenchCase, tf } from '@prunefuse/engine';
import { architecture } from './architectures/registry.js';
import { buildNetwork } from './build.js';
import type { InputShape } from './spec.js';
import { BENCH_INPUT_SHAPES, seededImages, trainingStepFixture } from './training-step.js';

/** Images per iteration unless the caller gives another (bench --batch). */
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

/** One model bench case before it is bound to an implementation: what it measures, where. */
export interface ModelBenchWorkload extends Speed {
  /** The case name a PyTorch reference row carries too (torch/resnet_bench.py parses it). */
  name: string;
  arch: string;
  mode: 'train' | 'infer';
  input: InputShape;
  batch: number;
}

/**
 * One SGD-momentum step of a ResNet on a batch (forward in training mode, backward,
 * update): images/s of training. The cpu backend needs minutes per step, hence slow.
 */
function trainCase(workload: ModelBenchWorkload): BenchCase {
  const { arch, input, batch } = workload;
  return {
    ...modelCaseHeader(workload),
    prepare() {
      const fixture = trainingStepFixture({ arch, input, batch });
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

/** Inference (batch-norm folded into the convs) on a batch, logits read back. */
function inferCase(workload: ModelBenchWorkload): BenchCase {
  const { arch, input, batch } = workload;
  return {
    ...modelCaseHeader(workload),
    prepare() {
      const net = buildNetwork(architecture(arch, { input, classes: CLASSES }), 1);
      const x = seededImages(input, batch, 2);
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

/** A workload's name, backends and images per iteration: what every implementation of it shares. */
export function modelCaseHeader(
  workload: ModelBenchWorkload,
): Pick<BenchCase, 'name' | 'backends' | 'slowBackends' | 'images'> {
  const { name, backends, slowBackends, batch } = workload;
  return { name, backends, ...(slowBackends ? { slowBackends } : {}), images: batch };
}

/** Which backends run a case by default, and which only with --slow. */
type Speed = Pick<BenchCase, 'backends' | 'slowBackends'>;

const DEFAULT_SPEED: Speed = { backends: ['tensorflow', 'webgpu', 'wasm'], slowBackends: ['cpu'] };

/** ResNet-56 takes seconds per batch-128 step on two CPU cores: a GPU case by default. */
const GPU_SPEED: Speed = { backends: ['tensorflow', 'webgpu'], slowBackends: ['wasm', 'cpu'] };

/**
 * End-to-end ResNet-20 training and inference throughput at CIFAR and MNIST shapes, and
 * ResNet-56 at CIFAR shape (the paper's target, the GPU issue's figure), at `batch`
 * images per iteration (128 unless given; the case names carry it).
 */
export function modelBenchWorkloads({
  batch = BATCH,
}: {
  batch?: number;
} = {}): ModelBenchWorkload[] {
  const [cifar] = SHAPES;
  const workload = (
    arch: string,
    mode: 'train' | 'infer',
    { label, input }: Shape,
    speed = DEFAULT_SPEED,
  ): ModelBenchWorkload => ({
    name: `model/${arch}/${mode}/${label}/${batch}x${input.height}x${input.width}x${input.channels}`,
    arch,
    mode,
    input,
    batch,
    ...speed,
  });
  return [
    ...SHAPES.flatMap((shape) => [
      workload('resnet20', 'train', shape),
      workload('resnet20', 'infer', shape),
    ]),
    workload('resnet56', 'train', cifar!, GPU_SPEED),
    workload('resnet56', 'infer', cifar!, GPU_SPEED),
  ];
}

/** The model workloads as tfjs bench cases (on the webgpu backend: tfjs ops). */
export function modelBenchCases(options: { batch?: number } = {}): BenchCase[] {
  return modelBenchWorkloads(options).map((w) =>
    w.mode === 'train' ? trainCase(w) : inferCase(w),
  );
}
