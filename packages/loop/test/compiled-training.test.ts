import { relativeError, tf, useBackend } from '@prunefuse/engine';
import { buildNetwork, type ModelSpec } from '@prunefuse/models';
import { webgpuDevice } from '@prunefuse/webgpu-trainer';
import { afterEach, describe, expect, test } from 'vitest';
import {
  evaluateNetwork,
  type Teacher,
  TrainingDivergedError,
  type TrainingSchedule,
  type TrainResult,
  trainNetwork,
} from '../src/index.js';
import {
  batchesOf,
  CONV_SPEC,
  DENSE_SPEC,
  gaussianProblem,
  type Problem,
  wholeAndResumed,
} from './training-fixtures.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
async function webgpuAvailable(): Promise<boolean> {
  try {
    await useBackend('webgpu');
    return true;
  } catch (error) {
    console.warn(
      `skipping the compiled-trainer tests: no webgpu adapter: ${(error as Error).message}`,
    );
    return false;
  }
}

const webgpu = await webgpuAvailable();

// 70 examples in batches of 16: four full batches and a partial last one of 6.
const BATCH = 16;
const TRAINING: TrainingSchedule = {
  epochs: 2,
  lr: 0.1,
  schedule: 'one-cycle',
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  evalEvery: 1,
};

afterEach(() => {
  delete process.env.PRUNEFUSE_WEBGPU_TRAINER;
});

interface Run {
  result: TrainResult;
  weights: Map<string, Float32Array>;
}

/** Trains a network built from `seed` on `backend` (its own teacher from teacherSeed) and returns its records and final weights. */
async function train(options: {
  backend: 'cpu' | 'webgpu';
  spec: ModelSpec;
  seed: number;
  problem: Problem;
  test: Problem;
  teacherSeed?: number;
}): Promise<Run> {
  await useBackend(options.backend);
  const network = buildNetwork(options.spec, options.seed);
  const teacherNetwork =
    options.teacherSeed === undefined ? undefined : buildNetwork(options.spec, options.teacherSeed);
  const teacher: Teacher | undefined = teacherNetwork && {
    network: teacherNetwork,
    lambda: 0.3,
    temperature: 4,
  };
  try {
    const result = await trainNetwork(network, {
      training: TRAINING,
      stepsPerEpoch: Math.ceil(options.problem.size / BATCH),
      batches: (epoch) => batchesOf(options.problem, BATCH, epoch),
      evaluate: () => evaluateNetwork(network, batchesOf(options.test, 32)),
      ...(teacher ? { teacher } : {}),
    });
    const weights = new Map<string, Float32Array>();
    for (const [name, v] of network.variables) weights.set(name, (await v.data()) as Float32Array);
    return { result, weights };
  } finally {
    network.dispose();
    teacherNetwork?.dispose();
  }
}

function expectSameTraining(compiled: Run, reference: Run): void {
  expect(compiled.result.examplesSeen).toBe(reference.result.examplesSeen);
  expect(compiled.result.epochs).toHaveLength(reference.result.epochs.length);
  compiled.result.epochs.forEach((epoch, i) => {
    const expected = reference.result.epochs[i]!;
    expect(epoch.lr).toBe(expected.lr);
    expect(
      Math.abs(epoch.trainLoss - expected.trainLoss) / expected.trainLoss,
      `epoch ${i} training loss ${epoch.trainLoss} against ${expected.trainLoss}`,
    ).toBeLessThan(1e-4);
    expect(epoch.trainAccuracy).toBeCloseTo(expected.trainAccuracy, 6);
    expect(epoch.testLoss!).toBeCloseTo(expected.testLoss!, 3);
    expect(epoch.testAccuracy!).toBeCloseTo(expected.testAccuracy!, 6);
  });
  expect([...compiled.weights.keys()]).toEqual([...reference.weights.keys()]);
  for (const [name, expected] of reference.weights) {
    expect(relativeError(compiled.weights.get(name)!, expected), name).toBeLessThan(1e-3);
  }
}

/** Counts the GPU buffers the compiled trainer creates and has not destroyed (by their label). */
function countTrainerBuffers(device: GPUDevice): {
  created: () => number;
  live: () => number;
  restore: () => void;
} {
  const live = new Set<GPUBuffer>();
  let created = 0;
  const create = device.createBuffer;
  device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    if (descriptor.label?.startsWith('webgpu-trainer')) {
      created++;
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
    created: () => created,
    live: () => live.size,
    restore: () => Object.assign(device, { createBuffer: create }),
  };
}

describe.skipIf(!webgpu)('trainNetwork on webgpu with the compiled trainer', () => {
  const problem = gaussianProblem(3, 70);
  const testSplit = gaussianProblem(4, 30);
  const convProblem = gaussianProblem(5, 70, [4, 4, 2]);
  const convTest = gaussianProblem(6, 30, [4, 4, 2]);

  for (const [spec, trainSplit, specTest] of [
    [DENSE_SPEC, problem, testSplit],
    [CONV_SPEC, convProblem, convTest],
  ] as const) {
    test(`${spec.arch}: matches the tfjs trainer on cpu (2 epochs, one-cycle, partial last batch)`, async () => {
      const reference = await train({
        backend: 'cpu',
        spec,
        seed: 1,
        problem: trainSplit,
        test: specTest,
      });
      const compiled = await train({
        backend: 'webgpu',
        spec,
        seed: 1,
        problem: trainSplit,
        test: specTest,
      });
      expectSameTraining(compiled, reference);
    });
  }

  test('stopped after an epoch and resumed from its saved momentum, ends with the very same weights', async () => {
    await useBackend('webgpu');
    const { whole, resumed, saved } = await wholeAndResumed({
      spec: CONV_SPEC,
      seed: 5,
      problem: convProblem,
      training: { ...TRAINING, epochs: 3 },
      batch: BATCH,
      stopAfter: 0,
    });
    expect(saved.optimizer.layout).toBe('compiled-momentum');
    expect(saved.optimizer.values.some((v) => v !== 0)).toBe(true);
    expect(resumed).toEqual(whole);
  });

  test('knowledge distillation from a teacher matches the tfjs trainer on cpu', async () => {
    const run = (backend: 'cpu' | 'webgpu') =>
      train({
        backend,
        spec: CONV_SPEC,
        seed: 2,
        teacherSeed: 3,
        problem: convProblem,
        test: convTest,
      });
    const reference = await run('cpu');
    expectSameTraining(await run('webgpu'), reference);
  });

  test('frees every GPU buffer and tensor across trainings; PRUNEFUSE_WEBGPU_TRAINER=tfjs uses tfjs ops', async () => {
    await useBackend('webgpu');
    const counter = countTrainerBuffers(webgpuDevice());
    try {
      const once = () =>
        train({
          backend: 'webgpu',
          spec: DENSE_SPEC,
          seed: 1,
          teacherSeed: 2,
          problem,
          test: testSplit,
        });
      await once();
      expect(counter.created()).toBeGreaterThan(0);
      expect(counter.live()).toBe(0);
      const tensors = tf.memory().numTensors;
      await once();
      expect(counter.live()).toBe(0);
      expect(tf.memory().numTensors).toBe(tensors);

      process.env.PRUNEFUSE_WEBGPU_TRAINER = 'tfjs';
      const created = counter.created();
      await once();
      expect(counter.created()).toBe(created);
      process.env.PRUNEFUSE_WEBGPU_TRAINER = 'fast';
      await expect(once()).rejects.toThrow(
        /PRUNEFUSE_WEBGPU_TRAINER: expected 'compiled' \(the default\) or 'tfjs', got 'fast'/,
      );
    } finally {
      counter.restore();
    }
  });

  test('a loss that explodes throws TrainingDivergedError naming the read-back window, and frees the trainer', async () => {
    await useBackend('webgpu');
    const counter = countTrainerBuffers(webgpuDevice());
    const network = buildNetwork(DENSE_SPEC, 1);
    const tensors = tf.memory().numTensors;
    try {
      // 70 examples in batches of 8: nine steps, read back together at the epoch's end.
      const run = trainNetwork(network, {
        training: { ...TRAINING, lr: 1e30, schedule: 'constant', momentum: 0, nesterov: false },
        batches: (epoch) => batchesOf(problem, 8, epoch),
      });
      const error = (await run.catch((e: unknown) => e)) as TrainingDivergedError;
      expect(error).toBeInstanceOf(TrainingDivergedError);
      expect(error.message).toMatch(
        /at epoch 0, steps 0 to 8 \(read back together as one mean\) \(both 0-based\), learning rate 1e\+30/,
      );
      expect([error.epoch, error.step, error.lastStep]).toEqual([0, 0, 8]);
      expect(Number.isFinite(error.loss)).toBe(false);
      expect(counter.created()).toBeGreaterThan(0);
      expect(counter.live()).toBe(0);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      network.dispose();
      counter.restore();
    }
  });
});
