import { loadDataset } from '@prunefuse/data';
import { selectBackend, tf } from '@prunefuse/engine';
import { architecture, buildNetwork, countMacs, type Network } from '@prunefuse/models';
import { activeLearningLoop, type MethodSetup } from '@prunefuse/loop';
import type { TrainingConfig } from '@prunefuse/results';
import { beforeAll, describe, expect, it } from 'vitest';
import { svpMethod } from '../src/index.js';

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
  // A deeper target so that the proxy (resnet8-digits) is the smaller network, as in SVP.
  const spec = architecture('resnet20', { input: dataset.shape, classes: dataset.classes });
  setup = { dense: buildNetwork(spec, 5), dataset, initialLabelled: Int32Array.of(0), seed: 1 };
});

const flat = (network: Network) =>
  Float32Array.from([...network.variables.values()].flatMap((v) => Array.from(v.dataSync())));

describe('svp', () => {
  it('selects with the proxy architecture, from the same seeded weights every round', () => {
    const factory = svpMethod({ proxyArch: 'resnet8-digits', proxyTraining: TRAINING });
    const method = factory(setup);
    const again = factory(setup);
    try {
      expect(method.name).toBe('svp');
      expect(method.selector?.spec.arch).toBe('resnet8-digits');
      expect(method.selector?.spec.input).toEqual(setup.dataset.shape);
      expect(countMacs(method.selector!.spec)).toBeLessThan(countMacs(setup.dense.spec) / 2);
      const [a, b, c] = [
        method.selector!.fresh(),
        method.selector!.fresh(),
        again.selector!.fresh(),
      ];
      expect(flat(b)).toEqual(flat(a));
      expect(flat(c)).toEqual(flat(a));
      for (const network of [a, b, c]) network.dispose();
    } finally {
      method.dispose();
      again.dispose();
    }
  });

  it('names an unknown proxy architecture', () => {
    expect(() => svpMethod({ proxyArch: 'resnet7', proxyTraining: TRAINING })(setup)).toThrow(
      /unknown architecture 'resnet7'/,
    );
  });

  it('throws the proxy away: the target is θ trained from scratch', async () => {
    const before = tf.memory().numTensors;
    const outcome = await activeLearningLoop(
      {
        dataset: setup.dataset,
        targetSpec: setup.dense.spec,
        budget: { initial: 20, milestones: [40], roundSize: 20, classBalancedInitial: false },
        acquisition: 'least-confidence',
        targetTraining: TRAINING,
        rankAgreement: false,
        seed: 4,
        inferenceBatchSize: 64,
      },
      svpMethod({ proxyArch: 'resnet8-digits', proxyTraining: { ...TRAINING, epochs: 2 } }),
    );
    expect(outcome.params.selectorSpec?.arch).toBe('resnet8-digits');
    expect(outcome.rounds[0]?.epochs).toHaveLength(2);
    expect(outcome.targets).toMatchObject([{ labelled: 40, init: 'scratch', kd: false }]);
    expect(outcome.targets[0]?.epochs).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
