import { type BenchCase, Rng } from '@prunefuse/engine';
import {
  activationShapes,
  architecture,
  BENCH_INPUT_SHAPES,
  INPUT,
  type InputShape,
  type ModelSpec,
} from '@prunefuse/models';
import { graphNodes } from './graph.js';
import { KernelHarness } from './kernel-harness.js';
import {
  batchNormBytes,
  convFlops,
  type KernelOp,
  kernelOperands,
  pushKernelOp,
} from './kernel-ops.js';
import { batchNormShape, convGeometry } from './lower.js';
import { webgpuDevice } from './trainer.js';

/** The batch the kernel cases run at: the CIFAR and Tiny-ImageNet experiments' batch. */
const BATCH = 128;

/** Where the kernel cases' shapes come from: the registry's networks at their datasets' input. */
const SOURCES: readonly { label: string; input: InputShape; classes: number; archs: string[] }[] = [
  {
    label: 'cifar',
    input: BENCH_INPUT_SHAPES.cifar,
    classes: 10,
    archs: ['resnet20', 'resnet56'],
  },
  {
    label: 'tiny-imagenet',
    input: { height: 64, width: 64, channels: 3 },
    classes: 200,
    archs: ['resnet18', 'resnet50'],
  },
];

/** The pruning ratios whose narrowed widths get cases of their own (0: the dense network). */
const PRUNE_RATIOS = [0, 0.5, 0.8] as const;

/**
 * Work per timed iteration: the op is repeated in one submission until it does about this
 * much, so that a fast GPU times its kernels rather than a submission's round trip.
 */
const TARGET_FLOPS = 4e9;
const TARGET_BYTES = 1e9;
const MAX_REPEATS = 64;

export interface KernelBenchOptions {
  /**
   * A dense spec narrowed to pruning ratio p (PruneFuse's prunedSpec): the widths of
   * pruned networks come from the pruning code, not from a copy of its rule.
   */
  prune: (spec: ModelSpec, p: number) => ModelSpec;
  batch?: number;
}

/** A kernel op with its case name: `kernel/conv/<pass>/<dataset>/<shape>` or `kernel/batchnorm/...`. */
export interface NamedKernelOp {
  name: string;
  op: KernelOp;
}

/**
 * Every distinct convolution pass and batch norm of the registry's CIFAR ResNets
 * (ResNet-20/56 at 32x32) and ResNet-18/50 (at Tiny-ImageNet's 64x64), dense and pruned
 * at p = 0.5 and 0.8, at batch 128. A conv reading the images has no input gradient.
 */
export function kernelOps(options: KernelBenchOptions): NamedKernelOp[] {
  const batch = options.batch ?? BATCH;
  const ops = new Map<string, KernelOp>();
  for (const { label, input, classes, archs } of SOURCES) {
    for (const arch of archs) {
      const dense = architecture(arch, { input, classes });
      for (const p of PRUNE_RATIOS) {
        const spec = p === 0 ? dense : options.prune(dense, p);
        const shapes = activationShapes(spec);
        for (const node of graphNodes(spec)) {
          if (node.kind === 'conv') {
            const g = convGeometry(node, shapes, batch);
            const strided = g.stride === 1 ? '' : `-s${g.stride}`;
            const shape = `${batch}x${g.height}x${g.width}x${g.inChannels}-${g.kernel}x${g.kernel}x${g.outChannels}${strided}`;
            for (const pass of ['forward', 'input-grad', 'filter-grad'] as const) {
              if (pass === 'input-grad' && node.input === INPUT) continue;
              ops.set(`kernel/conv/${pass}/${label}/${shape}`, { kind: 'conv', pass, geometry: g });
            }
          } else if (node.kind === 'batchnorm') {
            const bn = batchNormShape(node, shapes, batch);
            const [h, w] = shapes.get(node.input)!;
            for (const pass of ['forward', 'backward'] as const) {
              ops.set(`kernel/batchnorm/${pass}/${label}/${batch}x${h}x${w}x${bn.channels}`, {
                kind: 'batchnorm',
                pass,
                shape: bn,
              });
            }
          }
        }
      }
    }
  }
  return [...ops].map(([name, op]) => ({ name, op }));
}

/**
 * The compiled trainer's own kernels, one case per op of kernelOps, on webgpu: FLOP/s
 * for convolutions, GB/s (of the least traffic) for batch norm. `bench --pytorch` times
 * the same ops in PyTorch (models/torch/kernel_bench.py parses these names).
 */
export function compiledKernelBenchCases(options: KernelBenchOptions): BenchCase[] {
  return kernelOps(options).map(kernelBenchCase);
}

/** Seeded operands: normal values, positive scales where an op divides or normalises by them. */
export function seedKernelOperands(harness: KernelHarness, op: KernelOp, seed = 1): void {
  const rng = new Rng(seed);
  for (const [operand, floats] of Object.entries(kernelOperands(op))) {
    const positive = operand === 'stats' || operand === 'gammaBeta';
    harness.write(
      operand,
      Float32Array.from({ length: floats }, () => (positive ? 0.5 + rng.uniform() : rng.normal())),
    );
  }
}

/** A bench case timing `op` repeated in one submission, on the webgpu backend's device. */
export function kernelBenchCase({ name, op }: NamedKernelOp): BenchCase {
  const flops = op.kind === 'conv' ? convFlops(op.geometry) : undefined;
  const bytes = op.kind === 'batchnorm' ? batchNormBytes(op) : undefined;
  const wanted = flops ? TARGET_FLOPS / flops : TARGET_BYTES / bytes!;
  const repeats = Math.max(1, Math.min(MAX_REPEATS, Math.round(wanted)));
  return {
    name,
    backends: ['webgpu'],
    repeats,
    ...(flops ? { flops: flops * repeats } : { bytes: bytes! * repeats }),
    prepare() {
      const harness = new KernelHarness(webgpuDevice(), kernelOperands(op));
      try {
        seedKernelOperands(harness, op);
        harness.compile((list) => pushKernelOp(list, harness, op));
      } catch (error) {
        harness.dispose();
        throw error;
      }
      return { run: () => harness.run(repeats), dispose: () => harness.dispose() };
    },
  };
}
