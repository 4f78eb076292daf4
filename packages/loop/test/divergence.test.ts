import { type Dataset, loadDataset } from '@prunefuse/data';
import { selectBackend } from '@prunefuse/engine';
import { architecture } from '@prunefuse/models';
import type { EpochRecord, TrainingConfig } from '@prunefuse/results';
import { beforeAll, describe, expect, it } from 'vitest';
import { divergence } from '../src/divergence.js';
import { activeLearningLoop, type MethodFactory, scratchTarget } from '../src/index.js';

function epochs(...trainLosses: number[]): EpochRecord[] {
  return trainLosses.map((trainLoss, epoch) => ({
    epoch,
    lr: 0.1,
    trainLoss,
    trainAccuracy: 0.5,
    seconds: 1,
  }));
}

const TEST = { classes: 10, size: 2000 };

describe('divergence', () => {
  it('leaves a target that learned alone', () => {
    expect(divergence({ accuracy: 0.8, epochs: epochs(2.3, 1.1, 0.4) }, TEST)).toBeNull();
  });

  it('flags a training loss that ended above where it started', () => {
    expect(divergence({ accuracy: 0.8, epochs: epochs(2.3, 9.5, 2.31) }, TEST)).toEqual({
      reason: 'the training loss rose from 2.300 (first epoch) to 2.310 (last epoch)',
    });
    // one epoch has nothing to compare with
    expect(divergence({ accuracy: 0.8, epochs: epochs(2.3) }, TEST)).toBeNull();
  });

  it('flags accuracy at chance: 1/classes plus 3 standard deviations of guessing over the test split', () => {
    // 0.1 + 3 * sqrt(0.1 * 0.9 / 2000) = 0.12012
    expect(divergence({ accuracy: 0.12, epochs: epochs(2.3, 2.2) }, TEST)).toEqual({
      reason:
        'test accuracy 12.00% is at chance (at most 12.01%: 1/10 plus 3 standard deviations of guessing over 2000 test examples)',
    });
    expect(divergence({ accuracy: 0.1202, epochs: epochs(2.3, 2.2) }, TEST)).toBeNull();
    // a small test split leaves chance more room: 0.1 + 3 * sqrt(0.09 / 100) = 0.19
    expect(
      divergence({ accuracy: 0.185, epochs: epochs(2.3, 2.2) }, { classes: 10, size: 100 }),
    ).not.toBeNull();
  });

  it('gives both reasons when both hold', () => {
    const found = divergence({ accuracy: 0.05, epochs: epochs(2.3, 520) }, TEST);
    expect(found?.reason).toMatch(/^the training loss rose .*; test accuracy 5\.00% is at chance/);
  });
});

describe('the loop flags a target whose training blew up without a NaN', () => {
  let dataset: Dataset;
  beforeAll(async () => {
    await selectBackend('wasm');
    dataset = await loadDataset('mnist', { seed: 3, trainSubset: 200, testSubset: 100 });
  });

  const random: MethodFactory = () => ({
    name: 'random',
    selector: null,
    buildTarget: scratchTarget,
    dispose: () => {},
  });

  const training = (lr: number): TrainingConfig => ({
    epochs: 3,
    batchSize: 32,
    lr,
    schedule: 'constant',
    momentum: 0.9,
    weightDecay: 5e-4,
    augment: false,
    evalEvery: 1,
  });

  const run = (lr: number) =>
    activeLearningLoop(
      {
        dataset,
        targetSpec: architecture('resnet8-digits', {
          input: dataset.shape,
          classes: dataset.classes,
        }),
        budget: { initial: 200, milestones: [200], roundSize: 200, classBalancedInitial: true },
        acquisition: 'random',
        targetTraining: training(lr),
        rankAgreement: false,
        seed: 5,
        inferenceBatchSize: 100,
      },
      random,
    );

  it('learning rate 5 (issue 16): recorded, with diverged and its reason; learning rate 0.05: not', async () => {
    const blownUp = await run(5);
    expect(blownUp.targets[0]!.diverged?.reason).toMatch(/at chance|training loss rose/);
    const sane = await run(0.05);
    expect(sane.targets[0]!.diverged).toBeUndefined();
  });
});
