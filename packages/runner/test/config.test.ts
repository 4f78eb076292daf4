import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment, readExperiment } from '../src/config/load.js';
import { TRAINING_DEFAULTS } from '../src/config/schema.js';
import { ConfigError } from '../src/config/source.js';
import { describeTestDataset } from './fixtures/datasets.js';

const experimentsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../experiments',
);

function problems(text: string, file = 'experiments/test.yaml'): string[] {
  try {
    expandSweep(parseExperiment(file, text), describeTestDataset);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

const VALID = `
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: 0.5
  - random
budget:
  initial: 100
  milestones: ['10%', '20%']
  roundSize: 100
`;

describe('experiment schema errors', () => {
  it('names the file, line, column, field path, what was expected and what was found', () => {
    const text = VALID.replace('prune: 0.5', 'prune: 1.5');
    expect(problems(text)).toEqual([
      'experiments/test.yaml:6:12: methods[0].prune: expected a number strictly between 0 and 1, got 1.5',
    ]);
  });

  it('refuses prune 0: unpruned selection is the active-learning method', () => {
    expect(problems(VALID.replace('prune: 0.5', 'prune: 0'))).toEqual([
      'experiments/test.yaml:6:12: methods[0].prune: expected a number strictly between 0 and 1, got 0',
    ]);
  });

  it('refuses an unknown architecture with its position, as every other field', () => {
    const text = VALID.replace('arch: resnet8-digits', 'arch: [resnet8-digits, resnet57]').replace(
      '  - random',
      '  - { name: svp, proxyArch: resnet2 }',
    );
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^experiments\/test\.yaml:3:24: arch\[1\]: expected one of .*resnet56.*, got 'resnet57'$/,
      ),
      expect.stringMatching(
        /^experiments\/test\.yaml:7:29: methods\[1\]\.proxyArch: expected one of .*resnet20.*, got 'resnet2'$/,
      ),
    ]);
  });

  it('reports every problem at once, with paths into lists and unknown fields', () => {
    const text = `
dataset: { name: mnist }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: [0.5, 1]
    kd: yes please
  - svpp
  - name: svp
    proxyArch: resnet8-digits
    prun: 3
acquisition: [least-confidence, entropie]
budget:
  initial: 100
  milestones: ['10%']
  roundSize: 10x
seeds: 1.5
epochs: 3
`;
    expect(problems(text)).toEqual([
      'experiments/test.yaml:6:18: methods[0].prune[1]: expected a number strictly between 0 and 1, got 1',
      "experiments/test.yaml:7:9: methods[0].kd: expected true or false, got 'yes please'",
      'experiments/test.yaml:8:5: methods[1]: expected a method: one of prunefuse, svp, active-learning, random, full, ' +
        "got 'svpp'",
      'experiments/test.yaml:11:5: methods[2].prun: unknown field; expected one of name, seeds, milestones, proxyArch, proxyEpochs, proxyTraining',
      'experiments/test.yaml:12:33: acquisition[1]: expected one of least-confidence, entropy, margin, k-centers, ' +
        "random, got 'entropie'",
      'experiments/test.yaml:16:14: budget.roundSize: expected a count (1000), a fraction (0.1) or a percentage ' +
        "('10%') of the training split, got '10x'",
      'experiments/test.yaml:17:8: seeds: expected an integer, got 1.5',
      expect.stringMatching(
        /^experiments\/test\.yaml:18:1: epochs: unknown field; expected one of experiment, /,
      ),
    ]);
  });

  it('says what is missing', () => {
    const text = VALID.replace('  roundSize: 100\n', '');
    expect(problems(text)).toEqual([
      'experiments/test.yaml:9:3: budget.roundSize: expected a count (1000), a fraction (0.1) or a percentage ' +
        "('10%') of the training split, got nothing",
    ]);
  });

  it('checks budgets against the training split once percentages are resolved', () => {
    const text = VALID.replace(
      "milestones: ['10%', '20%']",
      "milestones: ['10%', 0.5, 9000]",
    ).replace('trainSubset: 2000', 'trainSubset: 9000');
    expect(problems(text)).toEqual([
      'experiments/test.yaml:2:38: dataset.trainSubset: expected at most the 8000 examples of the training split, ' +
        'got 9000',
      'experiments/test.yaml:10:28: budget.milestones[2]: budget 9000: 9000 exceeds the 8000-example training split',
    ]);
    const unordered = VALID.replace("milestones: ['10%', '20%']", "milestones: ['10%', 150]");
    expect(problems(unordered)).toEqual([
      'experiments/test.yaml:10:23: budget.milestones[1]: expected more than the milestone before it (200 examples), ' +
        'got 150',
    ]);
    const belowInitial = VALID.replace("milestones: ['10%', '20%']", "milestones: '2%'");
    expect(problems(belowInitial)).toEqual([
      'experiments/test.yaml:10:15: budget.milestones: expected at least the initial labelled set (100 examples), ' +
        "got '2%' (40 examples)",
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(problems(`${VALID}arch: resnet20\n`)).toEqual([
      expect.stringMatching(/^experiments\/test\.yaml:12:1: YAML syntax: Map keys must be unique/),
    ]);
    expect(problems('methods: [random\n')[0]).toMatch(
      /^experiments\/test\.yaml:\d+:\d+: YAML syntax: /,
    );
  });

  it('names a file it cannot read', () => {
    expect(() => readExperiment('experiments/missing.yaml')).toThrow(
      'experiments/missing.yaml: cannot read the config (ENOENT',
    );
  });
});

describe('experiment defaults', () => {
  it('resolves to a complete RunConfig with the documented defaults', () => {
    const [run] = expandSweep(
      parseExperiment('experiments/small.yaml', VALID),
      describeTestDataset,
    ).runs;
    expect(run!.trainSize).toBe(2000);
    expect(run!.config).toEqual({
      experiment: 'small',
      dataset: { name: 'mnist', dataDir: null, trainSubset: 2000, testSubset: null, dataSeed: 0 },
      arch: 'resnet8-digits',
      method: {
        name: 'prunefuse',
        prune: 0.5,
        criterion: 'magnitude',
        fusion: true,
        kd: true,
        fill: 'init',
        kdLambda: 0.5,
        kdTemperature: 4,
      },
      acquisition: 'least-confidence',
      budget: { initial: 100, milestones: [200, 400], roundSize: 100, classBalancedInitial: false },
      selectorTraining: TRAINING_DEFAULTS,
      targetTraining: TRAINING_DEFAULTS,
      rankAgreement: false,
      seed: 0,
      backend: 'auto',
    });
    expect(TRAINING_DEFAULTS).toMatchObject({
      epochs: 181,
      schedule: 'svp-step',
      batchSize: 128,
      momentum: 0.9,
      weightDecay: 5e-4,
    });
  });

  it('layers training: defaults, then training, then selectorTraining / targetTraining, then the svp proxy', () => {
    const text = `${VALID.replace('  - random', '  - name: svp\n    proxyArch: resnet20\n    proxyEpochs: 7\n    proxyTraining: { lr: 0.02 }')}
training: { epochs: 20, lr: 0.05 }
selectorTraining: { epochs: 10 }
targetTraining: { batchSize: 64 }
`;
    const runs = expandSweep(parseExperiment('x.yaml', text), describeTestDataset).runs;
    const [prunefuse, svp] = runs;
    expect(prunefuse!.config.selectorTraining).toMatchObject({
      epochs: 10,
      lr: 0.05,
      batchSize: 128,
    });
    expect(prunefuse!.config.targetTraining).toMatchObject({ epochs: 20, lr: 0.05, batchSize: 64 });
    expect(svp!.config.method).toEqual({
      name: 'svp',
      proxyArch: 'resnet20',
      proxyTraining: { ...TRAINING_DEFAULTS, epochs: 7, lr: 0.02 },
    });
  });

  it("refuses the proxy's epochs inside proxyTraining, pointing at proxyEpochs", () => {
    const text = VALID.replace('  - random', '  - name: svp\n    proxyTraining: { epochs: 7 }');
    expect(() => parseExperiment('experiments/svp.yaml', text)).toThrow(
      "methods[1].proxyTraining: expected the proxy's epochs as the svp option proxyEpochs, not in proxyTraining",
    );
  });
});

describe('the configs in experiments/', () => {
  const counts: Record<string, number> = {
    'quick.yaml': 4,
    'quick-ci.yaml': 4,
    // prunefuse, svp, AL, random, full; x 2 seeds
    'fashion-mnist.yaml': 10,
    // random, AL, svp, prunefuse (a) (b) (c) x 2 seeds; lambda x T = 12 at seed 0; full at seed 0
    'fashion-mnist-resnet20.yaml': 25,
    // prunefuse 4 p x 3 acquisitions, svp 3, AL 3, random 1, full 1; x 3 seeds
    'cifar10-resnet56.yaml': 60,
    'cifar100-resnet56.yaml': 60,
    'tinyimagenet-resnet50.yaml': 60,
    'ablation-pruning-ratio.yaml': 21,
    // fusion x kd x fill = 6 distinct, lambda x T = 12 of which one repeats; x 3 seeds
    'ablation-fusion-kd.yaml': 51,
    'ablation-criterion.yaml': 12,
  };

  it('holds exactly the expected configs', () => {
    expect(readdirSync(experimentsDir).sort()).toEqual(Object.keys(counts).sort());
  });

  for (const [file, count] of Object.entries(counts)) {
    it(`${file} validates and expands to ${count} runs`, () => {
      const sweep = expandSweep(
        readExperiment(path.join(experimentsDir, file)),
        describeTestDataset,
      );
      expect(sweep.experiment).toBe(file.replace('.yaml', ''));
      expect(sweep.runs).toHaveLength(count);
    });
  }

  it('the paper configs use the SVP schedule and budgets 10..50% of 50,000 from 1,000', () => {
    const sweep = expandSweep(
      readExperiment(path.join(experimentsDir, 'cifar10-resnet56.yaml')),
      describeTestDataset,
    );
    const prunefuse = sweep.runs.filter((r) => r.config.method.name === 'prunefuse');
    expect(new Set(prunefuse.map((r) => (r.config.method as { prune: number }).prune))).toEqual(
      new Set([0.5, 0.6, 0.7, 0.8]),
    );
    for (const { config } of sweep.runs.filter((r) => r.config.method.name !== 'full')) {
      expect(config.budget).toEqual({
        initial: 1000,
        milestones: [5000, 10000, 15000, 20000, 25000],
        roundSize: 5000,
        classBalancedInitial: false,
      });
      expect(config.targetTraining).toMatchObject({
        epochs: 181,
        schedule: 'svp-step',
        batchSize: 128,
      });
    }
  });
});
