import { describe, expect, it } from 'vitest';
import { expandSweep, type Sweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { ConfigError } from '../src/config/source.js';
import { parseFilter } from '../src/filter.js';
import { canonicalJson, runId } from '../src/run-id.js';
import { describeTestDataset } from './fixtures/datasets.js';

function expand(text: string, file = 'experiments/grid.yaml'): Sweep {
  return expandSweep(parseExperiment(file, text), describeTestDataset);
}

const GRID = `
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: [0.5, 0.7]
  - name: svp
    proxyArch: resnet8-digits
  - random
acquisition: [least-confidence, entropy]
budget: { initial: 100, milestones: ['10%', '20%'], roundSize: 100 }
seeds: [1, 2]
`;

describe('sweep expansion', () => {
  it('multiplies every list, in file order with seeds varying fastest', () => {
    const { runs, duplicates } = expand(GRID);
    const points = runs.map(({ config }) => {
      const prune = config.method.name === 'prunefuse' ? ` p=${config.method.prune}` : '';
      return `${config.method.name}${prune} ${config.acquisition} ${config.seed}`;
    });
    expect(points).toEqual([
      'prunefuse p=0.5 least-confidence 1',
      'prunefuse p=0.5 least-confidence 2',
      'prunefuse p=0.5 entropy 1',
      'prunefuse p=0.5 entropy 2',
      'prunefuse p=0.7 least-confidence 1',
      'prunefuse p=0.7 least-confidence 2',
      'prunefuse p=0.7 entropy 1',
      'prunefuse p=0.7 entropy 2',
      'svp least-confidence 1',
      'svp least-confidence 2',
      'svp entropy 1',
      'svp entropy 2',
      // random ignores the acquisition function: one run per seed, not one per acquisition
      'random random 1',
      'random random 2',
    ]);
    expect(duplicates).toBe(2);
    // budgets are milestones inside a run, not an axis
    for (const { config } of runs) expect(config.budget.milestones).toEqual([200, 400]);
  });

  it('collapses options a point does not use, so equal computations run once', () => {
    const { runs, duplicates } = expand(`
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet8-digits
methods:
  - name: prunefuse
    fusion: [true, false]
    kd: [true, false]
    fill: [init, zero]
    kdLambda: [0.3, 0.7]
  - full
budget: { initial: 100, milestones: '10%', roundSize: 100 }
`);
    const methods = runs.map((r) => r.config.method);
    // fusion on: kd on (2 fills x 2 lambdas) + kd off (2 fills); fusion off: kd on (2 lambdas) + kd off
    expect(methods.filter((m) => m.name === 'prunefuse')).toHaveLength(4 + 2 + 2 + 1);
    expect(duplicates).toBe(16 - 9);
    expect(methods).toContainEqual(
      expect.objectContaining({ fusion: false, kd: false, fill: 'init', kdLambda: 0.5 }),
    );
    const full = runs.find((r) => r.config.method.name === 'full')!;
    expect(full.config.budget).toEqual({
      initial: 2000,
      milestones: [2000],
      roundSize: 2000,
      classBalancedInitial: false,
    });
  });
});

describe('a method entry narrowing the sweep', () => {
  const NARROWED = `
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet8-digits
methods:
  - random
  - name: prunefuse
    kdLambda: [0.3, 0.7]
    seeds: 0
    milestones: ['20%']
  - name: full
    seeds: [0]
budget: { initial: 100, milestones: ['10%', '20%'], roundSize: 100 }
seeds: [0, 1]
`;

  it('runs its own seeds and builds targets at its own milestones, from the same rounds', () => {
    const points = expand(NARROWED).runs.map(
      ({ config }) => `${config.method.name} ${config.seed} ${config.budget.milestones}`,
    );
    expect(points).toEqual([
      'random 0 200,400',
      'random 1 200,400',
      'prunefuse 0 400',
      'prunefuse 0 400',
      'full 0 2000',
    ]);
    const prunefuse = expand(NARROWED).runs.find((r) => r.config.method.name === 'prunefuse')!;
    expect(prunefuse.config.budget).toEqual({
      initial: 100,
      milestones: [400],
      roundSize: 100,
      classBalancedInitial: false,
    });
  });

  it('is checked where it is written, and full has no milestones to narrow', () => {
    const problems = (text: string): string[] => {
      try {
        expand(text);
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
      throw new Error('expected the config to be rejected');
    };
    expect(problems(NARROWED.replace("milestones: ['20%']", 'milestones: [50]'))).toEqual([
      expect.stringMatching(
        /methods\[1\]\.milestones\[0\]: expected at least the initial labelled set \(100 examples\), got 50$/,
      ),
    ]);
    expect(problems(NARROWED.replace('seeds: [0]\nbudget', 'milestones: [400]\nbudget'))).toEqual([
      expect.stringMatching(
        /methods\[2\]\.milestones: unknown field; expected one of name, seeds$/,
      ),
    ]);
  });
});

describe('run ids', () => {
  it('are 12 hex digits of the resolved config, stable across YAML formatting, key order and notation', () => {
    const compact = expand(GRID).runs.map((r) => r.id);
    const reformatted = expand(`
seeds:
  - 1
  - 2
acquisition:
  - least-confidence
  - entropy
budget:
  roundSize: 100
  milestones: [200, '20%']
  initial: '5%'
methods:
  - name: prunefuse
    prune: [0.50, 0.7]
    criterion: magnitude
  - proxyArch: resnet8-digits
    name: svp
  - name: random
arch: [resnet8-digits]
dataset:
  trainSubset: 2000
  name: mnist
  dataDir: /somewhere/else
backend: wasm
experiment: another-name
`).runs.map((r) => r.id);
    expect(reformatted).toEqual(compact);
    for (const id of compact) expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(compact).size).toBe(compact.length);
  });

  it('change with anything that changes the computation', () => {
    const [run] = expand(GRID).runs;
    const config = run!.config;
    const changed = [
      { ...config, seed: 3 },
      { ...config, arch: 'resnet20' },
      { ...config, acquisition: 'margin' as const },
      { ...config, budget: { ...config.budget, milestones: [200, 600] } },
      { ...config, targetTraining: { ...config.targetTraining, epochs: 5 } },
      { ...config, dataset: { ...config.dataset, testSubset: 100 } },
      // another subset of the data
      { ...config, dataset: { ...config.dataset, dataSeed: 1 } },
      { ...config, method: { ...config.method, prune: 0.6 } as typeof config.method },
    ];
    for (const other of changed) expect(runId(other)).not.toBe(run!.id);
    expect(runId({ ...config, backend: 'webgpu', experiment: 'x' })).toBe(run!.id);
  });

  it('draw the data once per experiment: seeds share the subset; whole splits ignore the data seed', () => {
    const runs = expand(GRID).runs;
    expect(new Set(runs.map((r) => r.config.seed)).size).toBeGreaterThan(1);
    expect(new Set(runs.map((r) => r.config.dataset.dataSeed))).toEqual(new Set([0]));
    const whole = {
      ...runs[0]!.config,
      dataset: { ...runs[0]!.config.dataset, trainSubset: null },
    };
    expect(runId({ ...whole, dataset: { ...whole.dataset, dataSeed: 7 } })).toBe(runId(whole));
  });

  it('hash canonical JSON: keys sorted at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });
});

describe('--filter', () => {
  const { runs } = expand(GRID);
  const pick = (expression: string) =>
    runs
      .filter(parseFilter(expression, runs))
      .map((r) => `${r.config.method.name} ${r.config.seed}`);

  it('ands comma-separated clauses over resolved fields', () => {
    expect(pick('method=prunefuse,seed=1,method.prune=0.50,acquisition=entropy')).toEqual([
      'prunefuse 1',
    ]);
    expect(pick('method=svp|random,seed!=1')).toEqual(['svp 2', 'svp 2', 'random 2']);
    expect(pick('method.prune!=0.5,seed=2')).toEqual([
      'prunefuse 2',
      'prunefuse 2',
      'svp 2',
      'svp 2',
      'random 2',
    ]);
    expect(pick(`id=${runs[3]!.id}`)).toEqual(['prunefuse 2']);
    expect(pick('budget.initial=100,targetTraining.epochs=181,dataset=mnist')).toHaveLength(
      runs.length,
    );
  });

  it('rejects unknown fields and malformed clauses, naming them', () => {
    expect(() => parseFilter('metod=svp', runs)).toThrow(
      /--filter: unknown field 'metod'; fields: .*method\.prune/,
    );
    expect(() => parseFilter('method', runs)).toThrow(
      "--filter: 'method' is not a clause; expected comma-separated",
    );
  });
});
