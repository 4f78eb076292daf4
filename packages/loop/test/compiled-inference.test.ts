import type { Dataset } from '@prunefuse/data';
import { Rng, relativeError, tf, useBackend } from '@prunefuse/engine';
import { architecture, buildNetwork, type ModelSpec, type Network } from '@prunefuse/models';
import type { TrainingConfig } from '@prunefuse/results';
import { acquire } from '@prunefuse/selection';
import { webgpuDevice } from '@prunefuse/webgpu-trainer';
import { afterEach, describe, expect, test } from 'vitest';
import {
  activeLearningLoop,
  CompiledTrainers,
  evaluateNetwork,
  FrozenWeights,
  type MethodFactory,
  predict,
  trainNetwork,
} from '../src/index.js';
import {
  batchesOf,
  CLASSES,
  CONV_SPEC,
  gaussianProblem,
  type Problem,
  TRAINING,
} from './training-fixtures.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
async function webgpuAvailable(): Promise<boolean> {
  try {
    await useBackend('webgpu');
    return true;
  } catch (error) {
    console.warn(
      `skipping the compiled-inference tests: no webgpu adapter: ${(error as Error).message}`,
    );
    return false;
  }
}

const webgpu = await webgpuAvailable();

afterEach(() => {
  delete process.env.PRUNEFUSE_WEBGPU_TRAINER;
});

/**
 * Counts the GPU buffers the compiled trainer creates and has not destroyed (by their
 * label), and the trainers compiled (one parameter arena each).
 */
function countTrainerBuffers(device: GPUDevice): {
  live: () => number;
  compiled: () => number;
  restore: () => void;
} {
  const live = new Set<GPUBuffer>();
  let arenas = 0;
  const create = device.createBuffer;
  device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    if (descriptor.label?.startsWith('webgpu-trainer')) {
      if (descriptor.label === 'webgpu-trainer arena') arenas++;
      live.add(buffer);
      const destroy = buffer.destroy;
      buffer.destroy = function (this: GPUBuffer) {
        live.delete(buffer);
        destroy.call(this);
      };
    }
    return buffer;
  };
  return {
    live: () => live.size,
    compiled: () => arenas,
    restore: () => Object.assign(device, { createBuffer: create }),
  };
}

/** `spec` from `seed`, its batch-norm moving statistics moved off their initial 0 and 1. */
function seededNetwork(seed: number, spec: ModelSpec = CONV_SPEC): Network {
  const network = buildNetwork(spec, seed);
  const rng = new Rng(seed + 100);
  for (const [name, variable] of network.variables) {
    const moving = /\/moving(Mean|Variance)$/.exec(name)?.[1];
    if (!moving) continue;
    const values = Float32Array.from({ length: variable.size }, () =>
      moving === 'Mean' ? 0.5 * rng.normal() : 0.5 + rng.uniform(),
    );
    const value = tf.tensor(values, variable.shape);
    variable.assign(value);
    value.dispose();
  }
  return network;
}

const pool = gaussianProblem(7, 45, [4, 4, 2]);
const testSplit = gaussianProblem(8, 27, [4, 4, 2]);

/** ResNet-8 for digits on 8x8 images: residual blocks, strided convolutions, many batch norms. */
const RESNET_SPEC = architecture('resnet8-digits', {
  input: { height: 8, width: 8, channels: 1 },
  classes: CLASSES,
});

/** Test metrics, pool predictions and the examples least confidence and k-centres pick. */
async function scorePool(backend: 'cpu' | 'webgpu', spec: ModelSpec) {
  await useBackend(backend);
  const network = seededNetwork(3, spec);
  const shape: [number, number, number] = [
    spec.input.height,
    spec.input.width,
    spec.input.channels,
  ];
  const unlabelled = gaussianProblem(7, 45, shape);
  const heldOut = gaussianProblem(8, 27, shape);
  try {
    // Batches of 8: the last of each split is partial (5 and 3 examples).
    const evaluation = await evaluateNetwork(network, batchesOf(heldOut, 8));
    const scored = await predict(network, batchesOf(unlabelled, 8), 'both', unlabelled.size);
    const leastConfident = await acquire(
      'least-confidence',
      { poolSize: unlabelled.size, probabilities: scored.probabilities!, classes: CLASSES },
      10,
      new Rng(1),
    );
    const centres = await acquire(
      'k-centers',
      {
        poolSize: 40,
        embeddings: scored.features!.subarray(0, 40 * scored.featureDim),
        labelledEmbeddings: scored.features!.subarray(40 * scored.featureDim),
        dim: scored.featureDim,
      },
      10,
      new Rng(1),
    );
    return { evaluation, scored, leastConfident, centres };
  } finally {
    network.dispose();
  }
}

describe.skipIf(!webgpu)('inference on the compiled trainer', () => {
  test.each([CONV_SPEC, RESNET_SPEC])(
    '$arch: evaluation and pool scoring equal tfjs on cpu (partial last batches), selecting the same examples every time',
    async (spec) => {
      const reference = await scorePool('cpu', spec);
      await useBackend('webgpu');
      const counter = countTrainerBuffers(webgpuDevice());
      try {
        const compiled = await scorePool('webgpu', spec);
        // Each call compiled (and destroyed) its own inference trainer: no tfjs ops ran.
        expect(counter.compiled()).toBe(2);
        expect(counter.live()).toBe(0);
        expect(compiled.evaluation.accuracy).toBe(reference.evaluation.accuracy);
        expect(
          Math.abs(compiled.evaluation.loss - reference.evaluation.loss) /
            reference.evaluation.loss,
        ).toBeLessThan(1e-5);
        expect(
          relativeError(compiled.scored.probabilities!, reference.scored.probabilities!),
        ).toBeLessThan(1e-5);
        expect(relativeError(compiled.scored.features!, reference.scored.features!)).toBeLessThan(
          1e-5,
        );
        expect(compiled.leastConfident).toEqual(reference.leastConfident);
        expect(compiled.centres).toEqual(reference.centres);

        const again = await scorePool('webgpu', spec);
        expect(again.scored.probabilities).toEqual(compiled.scored.probabilities);
        expect(again.scored.features).toEqual(compiled.scored.features);
        expect(again.leastConfident).toEqual(compiled.leastConfident);
        expect(again.evaluation).toEqual(compiled.evaluation);

        process.env.PRUNEFUSE_WEBGPU_TRAINER = 'tfjs';
        const tfjs = await scorePool('webgpu', spec);
        expect(counter.compiled()).toBe(4);
        expect(
          relativeError(tfjs.scored.probabilities!, compiled.scored.probabilities!),
        ).toBeLessThan(1e-5);
      } finally {
        counter.restore();
      }
    },
  );

  test('trainers shared across rounds compile once, are reused by training, evaluation and scoring, and free every buffer when cleared', async () => {
    await useBackend('webgpu');
    const counter = countTrainerBuffers(webgpuDevice());
    const trainers = new CompiledTrainers();
    const train = gaussianProblem(5, 30, [4, 4, 2]);
    const tensors = tf.memory().numTensors;
    try {
      const round = async (seed: number) => {
        const network = seededNetwork(seed);
        const teacherNetwork = seededNetwork(seed + 1);
        try {
          const result = await trainNetwork(network, {
            training: { ...TRAINING, epochs: 2 },
            batches: (epoch) => batchesOf(train, 8, epoch),
            teacher: { network: teacherNetwork, lambda: 0.5, temperature: 4 },
            evaluate: () => evaluateNetwork(network, batchesOf(testSplit, 16), { trainers }),
            trainers,
          });
          expect(Number.isFinite(result.epochs.at(-1)!.testLoss!)).toBe(true);
          // The pool in batches of 16, then a labelled set smaller than that.
          await predict(network, batchesOf(pool, 16), 'probabilities', pool.size, { trainers });
          await predict(network, batchesOf(testSplit, 16), 'features', testSplit.size, {
            trainers,
          });
        } finally {
          network.dispose();
          teacherNetwork.dispose();
        }
      };
      await round(1);
      // The student, its teacher and one inference trainer (batches of 16 or fewer).
      expect(trainers.size).toBe(3);
      expect(counter.compiled()).toBe(3);
      const live = counter.live();
      await round(2);
      expect(counter.compiled()).toBe(3);
      expect(counter.live()).toBe(live);
      trainers.clear();
      expect(counter.live()).toBe(0);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      trainers.clear();
      counter.restore();
    }
  });
});

/** A dataset of `problem`-like images: each class a seeded mean pattern, on the 0..255 scale. */
function gaussianDataset(train: Problem, test: Problem): Dataset {
  const toSplit = ({ x, y, size }: Problem) => ({
    images: Uint8Array.from(x, (v) => Math.max(0, Math.min(255, Math.round(128 + 30 * v)))),
    labels: y,
    size,
  });
  const [height, width, channels] = train.shape;
  return {
    name: 'mnist',
    train: toSplit(train),
    test: toSplit(test),
    classes: CLASSES,
    classNames: Array.from({ length: CLASSES }, (_, c) => `class ${c}`),
    shape: { height, width, channels },
    mean: Array(channels).fill(0.5),
    std: Array(channels).fill(0.12),
    augmentation: 'none',
    source: 'synthetic',
  };
}

const LOOP_TRAINING: TrainingConfig = {
  epochs: 2,
  batchSize: 8,
  lr: 0.05,
  schedule: 'constant',
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: false,
  evalEvery: 1,
};

/** θ selects, retrained from its initial weights each round; each target distils from it. */
const distillingSelector: MethodFactory = ({ dense }) => {
  const initial = FrozenWeights.of(dense);
  return {
    name: 'prunefuse',
    selector: { spec: dense.spec, training: LOOP_TRAINING, fresh: () => initial.network() },
    buildTarget: async ({ trainedSelector, freshTarget, train }) => {
      const teacher = { network: await trainedSelector(), lambda: 0.5, temperature: 4 };
      const network = freshTarget();
      return { ...(await train(network, { teacher })), network, init: 'scratch', kd: true };
    },
    dispose: () => initial.dispose(),
  };
};

describe.skipIf(!webgpu)('the loop on the compiled trainer', () => {
  test('compiles each trainer once per run, however many rounds, and frees every GPU buffer at the end of each run', async () => {
    await useBackend('webgpu');
    const dataset = gaussianDataset(
      gaussianProblem(9, 60, [4, 4, 2]),
      gaussianProblem(10, 24, [4, 4, 2]),
    );
    const counter = countTrainerBuffers(webgpuDevice());
    try {
      const run = async (milestones: number[]) => {
        const compiled = counter.compiled();
        await activeLearningLoop(
          {
            dataset,
            targetSpec: CONV_SPEC,
            budget: { initial: 12, milestones, roundSize: 6, classBalancedInitial: true },
            acquisition: 'k-centers',
            targetTraining: LOOP_TRAINING,
            rankAgreement: false,
            seed: 4,
            inferenceBatchSize: 16,
          },
          distillingSelector,
        );
        expect(counter.live()).toBe(0);
        return counter.compiled() - compiled;
      };
      // Selector training, the target's training and its teacher, inference (pool, labelled
      // set and test split): four trainers, for two rounds as for five.
      expect(await run([24])).toBe(4);
      expect(await run([24, 42])).toBe(4);
    } finally {
      counter.restore();
    }
  });
});
