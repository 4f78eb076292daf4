import { selectBackend, tf } from '@prunefuse/engine';
import { buildNetwork, type Network, SgdMomentum } from '@prunefuse/models';
import type { EpochRecord } from '@prunefuse/results';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  crossEntropy,
  evaluateNetwork,
  learningRateAt,
  predict,
  TrainingDivergedError,
  trainNetwork,
} from '../src/index.js';
import {
  batchesOf,
  CONV_SPEC,
  DENSE_SPEC,
  gaussianProblem,
  TRAINING,
  wholeAndResumed,
} from './training-fixtures.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const TRAIN = gaussianProblem(1, 240);
const TEST = gaussianProblem(1, 90);

function weightsOf(network: Network): Map<string, Float32Array> {
  return new Map([...network.variables].map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

async function withNetwork<T>(seed: number, f: (network: Network) => Promise<T>): Promise<T> {
  const network = buildNetwork(DENSE_SPEC, seed);
  try {
    return await f(network);
  } finally {
    network.dispose();
  }
}

describe('trainNetwork', () => {
  test('learns a separable problem: the loss falls and test accuracy is high', async () => {
    await withNetwork(1, async (network) => {
      const before = await evaluateNetwork(network, batchesOf(TEST, 32));
      const result = await trainNetwork(network, {
        training: TRAINING,
        batches: (epoch) => batchesOf(TRAIN, 32, epoch),
        evaluate: () => evaluateNetwork(network, batchesOf(TEST, 32)),
      });
      const first = result.epochs[0]!;
      const last = result.epochs.at(-1)!;
      expect(last.trainLoss).toBeLessThan(first.trainLoss / 2);
      expect(last.testLoss!).toBeLessThan(before.loss / 2);
      expect(last.testAccuracy!).toBeGreaterThan(0.95);
      expect(last.trainAccuracy).toBeGreaterThan(0.9);
      expect(result.examplesSeen).toBe(TRAINING.epochs * TRAIN.size);
      expect(result.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });

  test('trains convolutions and batch norm too', async () => {
    const problem = gaussianProblem(2, 60, [4, 4, 2]);
    const network = buildNetwork(CONV_SPEC, 3);
    try {
      const result = await trainNetwork(network, {
        training: { ...TRAINING, epochs: 4, lr: 0.05 },
        batches: (epoch) => batchesOf(problem, 20, epoch),
      });
      expect(result.epochs.at(-1)!.trainLoss).toBeLessThan(result.epochs[0]!.trainLoss);
    } finally {
      network.dispose();
    }
  });

  test('follows the schedule, evaluates every evalEvery epochs and after the last', async () => {
    await withNetwork(1, async (network) => {
      const evaluated: number[] = [];
      const reported: EpochRecord[] = [];
      const result = await trainNetwork(network, {
        training: { ...TRAINING, epochs: 5, evalEvery: 2, schedule: 'svp-step', lr: 0.2 },
        batches: (epoch) => batchesOf(TRAIN, 64, epoch),
        evaluate: (epoch) => {
          evaluated.push(epoch);
          return { accuracy: epoch / 10, loss: epoch };
        },
        onEpoch: (record) => reported.push(record),
      });
      expect(evaluated).toEqual([1, 3, 4]);
      expect(reported).toEqual(result.epochs);
      expect(result.epochs.map((e) => e.testAccuracy)).toEqual([
        undefined,
        0.1,
        undefined,
        0.3,
        0.4,
      ]);
      // 5 epochs of svp-step: 1 warm-up, 2 at the peak, 1 at lr/10, 1 at lr/100.
      expect(result.epochs.map((e) => e.lr)).toEqual(
        [0.02, 0.2, 0.2, 0.02, 0.002].map((v) => expect.closeTo(v, 12)),
      );
      for (const e of result.epochs) expect(e.seconds).toBeGreaterThan(0);
    });
  });

  test('sets the one-cycle rate before every step and steps with Nesterov momentum', async () => {
    const training = { ...TRAINING, epochs: 2, schedule: 'one-cycle' as const, nesterov: true };
    const stepsPerEpoch = Math.ceil(TRAIN.size / 32);
    const trained = await withNetwork(4, async (network) => {
      const result = await trainNetwork(network, {
        training,
        stepsPerEpoch,
        batches: (epoch) => batchesOf(TRAIN, 32, epoch),
      });
      // An epoch records the rate of its first step.
      expect(result.epochs.map((e) => e.lr)).toEqual(
        [0, 1].map((epoch) =>
          learningRateAt('one-cycle', { epoch, step: 0, epochs: 2, stepsPerEpoch }, 0.1),
        ),
      );
      return weightsOf(network);
    });
    // The same steps by hand: torch-semantics Nesterov SGD at the schedule's rate per step.
    const byHand = await withNetwork(4, async (network) => {
      const optimizer = new SgdMomentum(network.trainableVariables(), {
        momentum: training.momentum,
        weightDecay: training.weightDecay,
        nesterov: true,
      });
      for (let epoch = 0; epoch < training.epochs; epoch++) {
        let step = 0;
        for (const batch of batchesOf(TRAIN, 32, epoch)) {
          const lr = learningRateAt('one-cycle', { epoch, step, epochs: 2, stepsPerEpoch }, 0.1);
          tf.dispose(
            optimizer.minimize(
              () => crossEntropy(network.apply(batch.x, { training: true }).logits, batch.y),
              lr,
            ),
          );
          tf.dispose([batch.x, batch.y]);
          step++;
        }
      }
      optimizer.dispose();
      return weightsOf(network);
    });
    expect(trained).toEqual(byHand);
    const plainMomentum = await withNetwork(4, async (network) => {
      await trainNetwork(network, {
        training: { ...training, nesterov: false },
        stepsPerEpoch,
        batches: (epoch) => batchesOf(TRAIN, 32, epoch),
      });
      return weightsOf(network);
    });
    expect(plainMomentum.get('logits/kernel')).not.toEqual(trained.get('logits/kernel'));
  });

  test('holds an epoch to the stepsPerEpoch it was promised', async () => {
    await withNetwork(1, async (network) => {
      await expect(
        trainNetwork(network, {
          training: { ...TRAINING, schedule: 'one-cycle' },
          stepsPerEpoch: 7,
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
        }),
      ).rejects.toThrow(/epoch 0 supplied more than the 7 batches stepsPerEpoch promised/);
      await expect(
        trainNetwork(network, {
          training: TRAINING,
          stepsPerEpoch: 9,
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
        }),
      ).rejects.toThrow(/epoch 0 supplied 8 batches, not the 9 stepsPerEpoch promised/);
      await expect(
        trainNetwork(network, {
          training: { ...TRAINING, schedule: 'one-cycle' },
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
        }),
      ).rejects.toThrow(/'one-cycle' sets the rate per step: it needs stepsPerEpoch/);
    });
  });

  test('is deterministic: same seed and batch order, same weights', async () => {
    const train = (seed: number) =>
      withNetwork(seed, async (network) => {
        await trainNetwork(network, {
          training: { ...TRAINING, epochs: 2 },
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
        });
        return weightsOf(network);
      });
    const [a, b, c] = [await train(7), await train(7), await train(8)];
    expect(b).toEqual(a);
    expect(c.get('logits/kernel')).not.toEqual(a.get('logits/kernel'));
    expect(a.get('hidden_bn/movingMean')).not.toEqual(new Float32Array(16));
  });

  test('stopped after an epoch and resumed from its saved state, ends with the very same weights', async () => {
    const tensors = tf.memory().numTensors;
    const { whole, resumed, saved } = await wholeAndResumed({
      spec: CONV_SPEC,
      seed: 5,
      problem: gaussianProblem(2, 70, [4, 4, 2]),
      training: { ...TRAINING, epochs: 3, schedule: 'one-cycle', nesterov: true },
      batch: 16,
      stopAfter: 1,
    });
    expect(saved.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(saved.optimizer.layout).toBe('tfjs-velocities');
    expect(resumed).toEqual(whole);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test('refuses to resume a training that is already complete, or an optimiser state of another engine', async () => {
    await withNetwork(3, async (network) => {
      const options = {
        training: { ...TRAINING, epochs: 1 },
        batches: (epoch: number) => batchesOf(TRAIN, 32, epoch),
      };
      const epoch = { epoch: 0, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, seconds: 1 };
      const velocities = new Float32Array(0);
      await expect(
        trainNetwork(network, {
          ...options,
          resumeFrom: {
            epochs: [epoch],
            examplesSeen: 240,
            optimizer: { layout: 'tfjs-velocities', values: velocities },
          },
        }),
      ).rejects.toThrow('cannot resume a training of 1 epochs after epochs [0]');
      await expect(
        trainNetwork(network, {
          ...options,
          training: { ...TRAINING, epochs: 2 },
          resumeFrom: {
            epochs: [epoch],
            examplesSeen: 240,
            optimizer: { layout: 'compiled-momentum', values: velocities },
          },
        }),
      ).rejects.toThrow("cannot restore a 'compiled-momentum' optimiser state into tfjs's SGD");
    });
  });

  test('distils from a teacher without changing it', async () => {
    await withNetwork(11, async (teacher) => {
      await trainNetwork(teacher, {
        training: TRAINING,
        batches: (epoch) => batchesOf(TRAIN, 32, epoch),
      });
      const teacherWeights = weightsOf(teacher);
      await withNetwork(12, async (student) => {
        const result = await trainNetwork(student, {
          training: { ...TRAINING, epochs: 3 },
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
          teacher: { network: teacher, lambda: 0.5, temperature: 4 },
          evaluate: () => evaluateNetwork(student, batchesOf(TEST, 32)),
        });
        expect(result.epochs.at(-1)!.testAccuracy!).toBeGreaterThan(0.9);
      });
      expect(weightsOf(teacher)).toEqual(teacherWeights);
    });
  });

  test('aborts with TrainingDivergedError naming epoch, step and rate when the loss explodes', async () => {
    const before = tf.memory().numTensors;
    await withNetwork(1, async (network) => {
      const run = trainNetwork(network, {
        training: { ...TRAINING, lr: 1e30, momentum: 0 },
        batches: (epoch) => batchesOf(TRAIN, 8, epoch),
      });
      await expect(run).rejects.toThrow(TrainingDivergedError);
      await expect(run).rejects.toThrow(
        /at epoch 0, step \d+ \(both 0-based\), learning rate 1e\+30/,
      );
      const error = (await run.catch((e: unknown) => e)) as TrainingDivergedError;
      expect(error.epoch).toBe(0);
      expect(error.step).toBeLessThan(TRAIN.size / 8);
      expect(Number.isFinite(error.loss)).toBe(false);
    });
    // The batches left unread in the generator were never created; with the network
    // disposed (its weights and cached scalars), nothing else may remain.
    expect(tf.memory().numTensors).toBe(before);
  });

  test('leaves no tensors behind across repeated calls', async () => {
    await withNetwork(1, async (network) => {
      const once = () =>
        trainNetwork(network, {
          training: { ...TRAINING, epochs: 2 },
          batches: (epoch) => batchesOf(TRAIN, 32, epoch),
          evaluate: () => evaluateNetwork(network, batchesOf(TEST, 32)),
          teacher: { network, lambda: 0.5, temperature: 4 },
        });
      await once();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await once();
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  test('refuses an epoch without batches and a malformed schedule', async () => {
    await withNetwork(1, async (network) => {
      await expect(
        trainNetwork(network, { training: TRAINING, batches: () => [] }),
      ).rejects.toThrow(/epoch 0 supplied no training batches/);
      await expect(
        trainNetwork(network, { training: { ...TRAINING, epochs: 0 }, batches: () => [] }),
      ).rejects.toThrow(/epochs must be a positive integer/);
    });
  });
});

describe('evaluateNetwork and predict', () => {
  test('agree with one full forward pass, batch by batch', async () => {
    await withNetwork(5, async (network) => {
      await trainNetwork(network, {
        training: { ...TRAINING, epochs: 1 },
        batches: (e) => batchesOf(TRAIN, 32, e),
      });
      const [all] = [...batchesOf(TEST, TEST.size)];
      const { logits, features } = network.apply(all!.x, { training: false });
      const probabilities = tf.softmax(logits);
      const expectedLoss = tf.losses.softmaxCrossEntropy(tf.oneHot(all!.y, 3), logits);
      const expectedAccuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), all!.y), 'float32'));

      const evaluation = await evaluateNetwork(network, batchesOf(TEST, 7));
      expect(evaluation.loss).toBeCloseTo((await expectedLoss.data())[0]!, 5);
      expect(evaluation.accuracy).toBeCloseTo((await expectedAccuracy.data())[0]!, 6);

      const both = await predict(network, batchesOf(TEST, 7), 'both', TEST.size);
      expect(both.featureDim).toBe(16);
      expect(Array.from(both.probabilities!)).toEqual(
        Array.from(await probabilities.data()).map((v) => expect.closeTo(v, 5)),
      );
      expect(Array.from(both.features!)).toEqual(
        Array.from(await features.data()).map((v) => expect.closeTo(v, 5)),
      );
      const onlyFeatures = await predict(network, batchesOf(TEST, 7), 'features', TEST.size);
      expect(onlyFeatures.probabilities).toBeNull();
      expect(onlyFeatures.features).toEqual(both.features);
      tf.dispose([all!.x, all!.y, logits, features, probabilities, expectedLoss, expectedAccuracy]);
    });
  });

  test('predict refuses a row count that does not match the batches, and leaks nothing', async () => {
    await withNetwork(5, async (network) => {
      const before = tf.memory().numTensors;
      await expect(
        predict(network, batchesOf(TEST, 32), 'probabilities', TEST.size + 1),
      ).rejects.toThrow(/held 90 rows, not the 91 announced/);
      await expect(predict(network, batchesOf(TEST, 32), 'probabilities', 40)).rejects.toThrow(
        /more than the 40 rows/,
      );
      await predict(network, batchesOf(TEST, 32), 'both', TEST.size);
      await evaluateNetwork(network, batchesOf(TEST, 32));
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
