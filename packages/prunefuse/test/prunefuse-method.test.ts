import { type Dataset, loadDataset } from '@prunefuse/data';
import { selectBackend, tf } from '@prunefuse/engine';
import { activeLearningLoop, type LoopSetup } from '@prunefuse/loop';
import { architecture, countMacs } from '@prunefuse/models';
import type { TrainingConfig } from '@prunefuse/results';
import { beforeAll, describe, expect, test } from 'vitest';
import { type PruneFuseOptions, prunedSpec, pruneFuseMethod } from '../src/index.js';

const TRAINING: TrainingConfig = {
  epochs: 1,
  batchSize: 32,
  lr: 0.05,
  schedule: 'constant',
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: false,
  evalEvery: 1,
};

const OPTIONS: PruneFuseOptions = {
  prune: 0.5,
  criterion: 'magnitude',
  fusion: true,
  kd: true,
  fill: 'init',
  kdLambda: 0.5,
  kdTemperature: 4,
  selectorTraining: TRAINING,
};

let setup: LoopSetup;

beforeAll(async () => {
  await selectBackend('wasm');
  const dataset: Dataset = await loadDataset('mnist', {
    seed: 3,
    trainSubset: 200,
    testSubset: 60,
  });
  setup = {
    dataset,
    targetSpec: architecture('resnet8-digits', { input: dataset.shape, classes: dataset.classes }),
    budget: { initial: 20, milestones: [50, 90], roundSize: 20, classBalancedInitial: true },
    acquisition: 'least-confidence',
    targetTraining: TRAINING,
    rankAgreement: false,
    seed: 11,
    inferenceBatchSize: 64,
  };
});

describe('PruneFuse on the shared loop', () => {
  test('θp selects; each milestone fuses θp* into θ and distils from it', async () => {
    const outcome = await activeLearningLoop(setup, pruneFuseMethod(OPTIONS));
    expect(outcome.params.selectorSpec).toEqual(prunedSpec(setup.targetSpec, 0.5));
    expect(outcome.targets.map((t) => [t.labelled, t.init, t.kd])).toEqual([
      [50, 'fused', true],
      [90, 'fused', true],
    ]);
    // Scoring is charged at the pruned network's cost, not θ's.
    const pruned = countMacs(prunedSpec(setup.targetSpec, 0.5));
    for (const round of outcome.rounds) {
      expect(round.macs.poolScoring).toBe(pruned * (200 - round.labelled));
    }
  });

  test('the ablations build what they name, and free every tensor', async () => {
    const before = tf.memory().numTensors;
    const scratch = await activeLearningLoop(
      setup,
      pruneFuseMethod({ ...OPTIONS, fusion: false, kd: false }),
    );
    expect(scratch.targets.every((t) => t.init === 'scratch' && !t.kd)).toBe(true);
    expect(scratch.targets.every((t) => t.selectorTrainingMacs === 0)).toBe(true);
    const noKd = await activeLearningLoop(setup, pruneFuseMethod({ ...OPTIONS, kd: false }));
    expect(noKd.targets.every((t) => t.init === 'fused' && !t.kd)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
