import { Rng, tf } from '@prunefuse/engine';
import { buildNetwork, type ModelSpec } from '@prunefuse/models';
import type { EpochRecord } from '@prunefuse/results';
import { type TrainingProgress, type TrainingSchedule, trainNetwork } from '../src/index.js';

export const FEATURES = 8;
export const CLASSES = 3;

/** Dense-only: each "image" is 1x1 with FEATURES channels, so global pooling is a flatten. */
export const DENSE_SPEC: ModelSpec = {
  arch: 'tiny-dense',
  input: { height: 1, width: 1, channels: FEATURES },
  classes: CLASSES,
  layers: [
    { kind: 'globalAvgPool', name: 'flatten', input: 'input' },
    { kind: 'dense', name: 'hidden', input: 'flatten', units: 16, bias: true },
    { kind: 'batchnorm', name: 'hidden_bn', input: 'hidden', epsilon: 1e-5, momentum: 0.9 },
    { kind: 'relu', name: 'features', input: 'hidden_bn' },
    { kind: 'dense', name: 'logits', input: 'features', units: CLASSES, bias: true },
  ],
  features: 'features',
  logits: 'logits',
};

/** Conv, batch norm, pooling and dense: the layer kinds of the real architectures, tiny. */
export const CONV_SPEC: ModelSpec = {
  arch: 'tiny-conv',
  input: { height: 4, width: 4, channels: 2 },
  classes: CLASSES,
  layers: [
    {
      kind: 'conv',
      name: 'conv',
      input: 'input',
      filters: 4,
      kernel: 3,
      stride: 1,
      padding: 'same',
      bias: false,
    },
    { kind: 'batchnorm', name: 'conv_bn', input: 'conv', epsilon: 1e-5, momentum: 0.9 },
    { kind: 'relu', name: 'conv_relu', input: 'conv_bn' },
    { kind: 'globalAvgPool', name: 'features', input: 'conv_relu' },
    { kind: 'dense', name: 'logits', input: 'features', units: CLASSES, bias: true },
  ],
  features: 'features',
  logits: 'logits',
};

export interface Problem {
  shape: [number, number, number];
  x: Float32Array;
  y: Int32Array;
  size: number;
}

/** Gaussian classes around seeded means, separable enough to learn in a few epochs. */
export function gaussianProblem(
  seed: number,
  size: number,
  shape: [number, number, number] = [1, 1, FEATURES],
): Problem {
  const rng = new Rng(seed);
  const values = shape[0] * shape[1] * shape[2];
  const means = Array.from({ length: CLASSES }, () =>
    Array.from({ length: values }, () => 2 * rng.normal()),
  );
  const x = new Float32Array(size * values);
  const y = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % CLASSES;
    y[i] = label;
    for (let v = 0; v < values; v++) x[i * values + v] = means[label]![v]! + rng.normal();
  }
  return { shape, x, y, size };
}

/** Batches of `problem` in a seeded order (or in order without a seed), as the data package gives them. */
export function* batchesOf(
  problem: Problem,
  batchSize: number,
  seed?: number,
): Generator<{ x: tf.Tensor4D; y: tf.Tensor1D }> {
  const order =
    seed === undefined
      ? Int32Array.from({ length: problem.size }, (_, i) => i)
      : new Rng(seed).permutation(problem.size);
  const values = problem.shape[0] * problem.shape[1] * problem.shape[2];
  for (let start = 0; start < problem.size; start += batchSize) {
    const positions = order.subarray(start, start + batchSize);
    const x = new Float32Array(positions.length * values);
    positions.forEach((p, r) => {
      x.set(problem.x.subarray(p * values, (p + 1) * values), r * values);
    });
    yield {
      x: tf.tensor4d(x, [positions.length, ...problem.shape]),
      y: tf.tensor1d(
        Int32Array.from(positions, (p) => problem.y[p]!),
        'int32',
      ),
    };
  }
}

export const TRAINING: TrainingSchedule = {
  epochs: 6,
  lr: 0.1,
  schedule: 'constant',
  momentum: 0.9,
  weightDecay: 5e-4,
  evalEvery: 1,
};

/** A training's outcome without its clock: the epochs' figures and the final weights. */
export interface UntimedTraining {
  epochs: Array<Omit<EpochRecord, 'seconds'>>;
  examplesSeen: number;
  weights: Map<string, Float32Array>;
}

/**
 * Trains a network built from `seed` for `training.epochs` epochs twice on the current
 * backend: once without a stop, and once stopped after epoch `stopAfter` (0-based) and
 * resumed, in a new network of the same seed, from the state onProgress gave there, as a
 * killed run's next attempt does. Returns both outcomes and the stored state.
 */
export async function wholeAndResumed(options: {
  spec: ModelSpec;
  seed: number;
  problem: Problem;
  training: TrainingSchedule;
  batch: number;
  stopAfter: number;
}): Promise<{ whole: UntimedTraining; resumed: UntimedTraining; saved: TrainingProgress }> {
  const { spec, problem, training, batch } = options;
  const run = async (
    resume: { progress: TrainingProgress; weights: Map<string, tf.Tensor> } | null,
  ) => {
    const network = buildNetwork(spec, options.seed);
    const stop: { saved?: { progress: TrainingProgress; weights: Map<string, tf.Tensor> } } = {};
    try {
      if (resume) network.setWeights(resume.weights);
      const result = await trainNetwork(network, {
        training,
        stepsPerEpoch: Math.ceil(problem.size / batch),
        batches: (epoch) => batchesOf(problem, batch, epoch),
        ...(resume ? { resumeFrom: resume.progress } : {}),
        onProgress: async (progress) => {
          if (progress.epochs.length !== options.stopAfter + 1) return;
          const weights = new Map<string, tf.Tensor>();
          for (const [name, v] of network.variables) {
            weights.set(name, tf.tensor((await v.data()) as Float32Array, v.shape));
          }
          stop.saved = { progress, weights };
        },
      });
      const weights = new Map<string, Float32Array>();
      for (const [name, v] of network.variables)
        weights.set(name, (await v.data()) as Float32Array);
      const untimed: UntimedTraining = {
        epochs: result.epochs.map(({ seconds: _seconds, ...epoch }) => epoch),
        examplesSeen: result.examplesSeen,
        weights,
      };
      return { untimed, saved: stop.saved };
    } finally {
      network.dispose();
    }
  };
  const whole = await run(null);
  const stop = whole.saved!;
  try {
    const resumed = await run(stop);
    return { whole: whole.untimed, resumed: resumed.untimed, saved: stop.progress };
  } finally {
    tf.dispose([...stop.weights.values()]);
  }
}
