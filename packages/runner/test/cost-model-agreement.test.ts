import { selectBackend } from '@prunefuse/engine';
import { describeRun } from '@prunefuse/results';
import { beforeAll, describe, expect, test } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { describeDataset, executeRun } from '../src/execute-run.js';
import { countForwardMacs, estimateMacs } from '../src/macs-estimate.js';
import { TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

// Every method and ablation whose accounting differs: θp* trained for the last milestone
// or not, a KD teacher or not, a proxy of another architecture, θ selecting by k-centres
// (which embeds the labelled set too), no selector, and the whole split at once.
const CONFIG = `
dataset: { name: mnist, trainSubset: 60, testSubset: 10 }
arch: resnet8-digits
methods:
  - name: prunefuse
    fusion: [true, false]
    kd: [true, false]
  - name: svp
    proxyArch: resnet8
    proxyEpochs: 1
  - active-learning
  - random
  - full
budget: { initial: 20, milestones: [30, 40], roundSize: 10 }
training: { epochs: 2, batchSize: 16, schedule: constant, lr: 0.05, augment: false, evalEvery: 2 }
seeds: [4]
`;

beforeAll(async () => {
  await selectBackend('wasm');
});

const expand = (yaml: string) =>
  expandSweep(parseExperiment('cost.yaml', yaml), describeDataset).runs;
const runs = [
  ...expand(CONFIG),
  ...expand(
    CONFIG.replace(
      /methods:[\s\S]*?budget:/,
      'methods: [active-learning]\nacquisition: k-centers\nbudget:',
    ),
  ),
];

describe("the cost model: a run's recorded MACs equal the dry-run estimate of its config", () => {
  test('the config covers every accounting case', () => {
    expect(runs.map((r) => describeRun(r.config).replace(/ resnet8-digits| seed 4/g, ''))).toEqual([
      'prunefuse p=0.5 least-confidence',
      'prunefuse p=0.5 no-KD least-confidence',
      'prunefuse p=0.5 no-fusion least-confidence',
      'prunefuse p=0.5 no-fusion no-KD least-confidence',
      'svp resnet8 truncated 1 ep least-confidence',
      'active-learning least-confidence',
      'random',
      'full',
      'active-learning k-centers',
    ]);
  });

  test.each(runs.map((run) => [describeRun(run.config), run] as const))(
    '%s',
    async (_label, run) => {
      const record = await executeRun(run.config, {
        id: run.id,
        environment: TEST_ENVIRONMENT,
        emit: () => {},
      });
      const facts = describeDataset(run.config.dataset.name);
      expect(record.macs).toEqual(estimateMacs(run.config, run.trainSize, facts, countForwardMacs));
    },
    300_000,
  );
});
