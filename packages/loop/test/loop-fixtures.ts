import { type Dataset, loadDataset } from '@prunefuse/data';
import { selectBackend } from '@prunefuse/engine';
import { architecture, type ModelSpec } from '@prunefuse/models';
import type { BudgetConfig, TrainingConfig } from '@prunefuse/results';
import { beforeAll } from 'vitest';
import type { LoopSetup } from '../src/index.js';

/** One short epoch: the loop's bookkeeping is under test, not what the networks learn. */
export const TRAINING: TrainingConfig = {
  epochs: 1,
  batchSize: 32,
  lr: 0.05,
  schedule: 'constant',
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: false,
  evalEvery: 1,
};

/** 20 -> 40 -> 50 (milestone) -> 70 -> 90 (milestone). */
export const BUDGET: BudgetConfig = {
  initial: 20,
  milestones: [50, 90],
  roundSize: 20,
  classBalancedInitial: true,
};

/**
 * Loop set-ups on 200 MNIST digits (60 for testing) with ResNet-8 for digits, on wasm.
 * Registers the loading in the calling file's beforeAll; call the returned function in
 * tests, overriding what a test varies.
 */
export function digitsLoopSetup(seed: number) {
  let dataset: Dataset;
  let spec: ModelSpec;
  beforeAll(async () => {
    await selectBackend('wasm');
    dataset = await loadDataset('mnist', { seed: 3, trainSubset: 200, testSubset: 60 });
    spec = architecture('resnet8-digits', { input: dataset.shape, classes: dataset.classes });
  });
  return (overrides: Partial<LoopSetup> = {}): LoopSetup => ({
    dataset,
    targetSpec: spec,
    budget: BUDGET,
    acquisition: 'least-confidence',
    targetTraining: TRAINING,
    rankAgreement: false,
    seed,
    inferenceBatchSize: 64,
    ...overrides,
  });
}
