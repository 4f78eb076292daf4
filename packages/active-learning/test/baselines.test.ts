import { loadDataset } from '@prunefuse/data';
import { selectBackend, tf } from '@prunefuse/engine';
import { architecture, buildNetwork, type Network } from '@prunefuse/models';
import { activeLearningLoop, type MethodSetup } from '@prunefuse/loop';
import type { TrainingConfig } from '@prunefuse/results';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeLearningMethod, fullDataMethod, randomMethod } from '../src/index.js';

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

let setup: MethodSetup;

beforeAll(async () => {
  await selectBackend('wasm');
  const dataset = await loadDataset('mnist', { seed: 1, trainSubset: 120, testSubset: 40 });
  const spec = architecture('resnet8-digits', { input: dataset.shape, classes: dataset.classes });
  setup = {
    dense: buildNetwork(spec, 5),
    dataset,
    initialLabelled: Int32Array.of(0, 1, 2),
    seed: 1,
  };
});

const flat = (network: Network) =>
  Float32Array.from([...network.variables.values()].flatMap((v) => Array.from(v.dataSync())));

describe('active learning', () => {
  it('selects with θ itself, restarted from θ’s initial weights every round', () => {
    const method = activeLearningMethod({ selectorTraining: TRAINING })(setup);
    try {
      expect(method.name).toBe('active-learning');
      expect(method.selector?.spec).toBe(setup.dense.spec);
      expect(method.selector?.training).toBe(TRAINING);
      const a = method.selector!.fresh();
      const b = method.selector!.fresh();
      expect(a).not.toBe(b);
      expect(flat(a)).toEqual(flat(setup.dense));
      expect(flat(b)).toEqual(flat(setup.dense));
      a.dispose();
      b.dispose();
    } finally {
      method.dispose();
    }
  });

  it('trains the target from scratch through the shared loop', async () => {
    const before = tf.memory().numTensors;
    const outcome = await activeLearningLoop(
      {
        dataset: setup.dataset,
        targetSpec: setup.dense.spec,
        budget: { initial: 20, milestones: [40], roundSize: 20, classBalancedInitial: false },
        acquisition: 'margin',
        targetTraining: TRAINING,
        rankAgreement: false,
        seed: 2,
        inferenceBatchSize: 64,
      },
      activeLearningMethod({ selectorTraining: TRAINING }),
    );
    expect(outcome.targets).toMatchObject([{ labelled: 40, init: 'scratch', kd: false }]);
    expect(outcome.params.selectorSpec).toEqual(setup.dense.spec);
    expect(outcome.rounds[0]?.selected).toHaveLength(20);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('random and full data', () => {
  it('have no selector model and train their targets from scratch', () => {
    for (const factory of [randomMethod(), fullDataMethod()]) {
      const method = factory(setup);
      expect(method.selector).toBeNull();
      method.dispose();
    }
    expect(randomMethod()(setup).name).toBe('random');
    expect(fullDataMethod()(setup).name).toBe('full');
  });

  it('full data labels the whole split from the start: no round selects', async () => {
    const size = setup.dataset.train.size;
    const outcome = await activeLearningLoop(
      {
        dataset: setup.dataset,
        targetSpec: setup.dense.spec,
        budget: { initial: size, milestones: [size], roundSize: size, classBalancedInitial: false },
        acquisition: 'random',
        targetTraining: TRAINING,
        rankAgreement: false,
        seed: 2,
        inferenceBatchSize: 64,
      },
      fullDataMethod(),
    );
    expect(outcome.rounds).toHaveLength(0);
    expect(outcome.initialLabelled).toHaveLength(size);
    expect(outcome.targets).toMatchObject([{ labelled: size, fraction: 1, init: 'scratch' }]);
    expect(outcome.macs.selectorTraining + outcome.macs.poolScoring).toBe(0);
  });
});
