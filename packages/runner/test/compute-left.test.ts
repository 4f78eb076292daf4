import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '@prunefuse/engine';
import { ResultsStore, TRAINING_MACS_PER_FORWARD } from '@prunefuse/results';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ExpandedRun, expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { dryRunRows } from '../src/dry-run.js';
import { describeDataset, executeRun } from '../src/execute-run.js';
import { countForwardMacs, forwardCosts } from '../src/macs-estimate.js';
import { selectionId } from '../src/run-id.js';
import { TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

// Three PruneFuse runs of one selection id, in sweep order: the first computes the phase
// without θp* on its last set, the second needs only that θp*, the third leaves the stored
// rounds at 40 (40 -> 45 where they went 40 -> 50). A fourth method selects on its own.
const config = (milestones: string, methods: string) => `
dataset: { name: mnist, trainSubset: 80, testSubset: 20 }
arch: resnet8-digits
methods: ${methods}
budget: { initial: 20, milestones: ${milestones}, roundSize: 10 }
training: { epochs: 2, batchSize: 16, schedule: constant, lr: 0.05, augment: false, evalEvery: 2 }
seeds: [4]
`;
const expand = (yaml: string) =>
  expandSweep(parseExperiment('left.yaml', yaml), describeDataset).runs;
const runs: ExpandedRun[] = [
  ...expand(config('[30, 50]', '[{ name: prunefuse, fusion: false, kd: false }]')),
  ...expand(config('[30, 50]', '[{ name: prunefuse, fusion: true, kd: true }]')),
  ...expand(config('[45]', '[{ name: prunefuse, fusion: true, kd: false }]')),
  ...expand(config('[30, 50]', '[random]')),
];

let root: string;
beforeAll(async () => {
  await selectBackend('wasm');
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-compute-left-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the dry run's 'to compute' is what each run of the sweep then trains", () => {
  test('runs sharing a selection id, in sweep order', async () => {
    expect(new Set(runs.slice(0, 3).map((run) => selectionId(run.config))).size).toBe(1);
    const store = ResultsStore.open(root);
    const rows = dryRunRows(runs, store, describeDataset, countForwardMacs);
    // The second run replays everything but θp* on 50; the third its first two rounds.
    expect(rows.map((row) => row.macsToCompute.selectorTraining > 0)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(rows[1]!.macsToCompute.poolScoring).toBe(0);
    for (const [i, run] of runs.entries()) {
      const { selector, target } = forwardCosts(
        run.config,
        describeDataset(run.config.dataset.name),
        countForwardMacs,
      );
      const method = run.config.method;
      const teacher = method.name === 'prunefuse' && method.kd ? selector! : 0;
      // What the run trains, epoch by epoch, at the cost model's prices.
      const trained = { selectorTraining: 0, targetTraining: 0 };
      await executeRun(run.config, {
        id: run.id,
        environment: TEST_ENVIRONMENT,
        selections: store.selections,
        emit: (event) => {
          if (event.type !== 'epoch') return;
          if (event.phase === 'selector') {
            trained.selectorTraining += event.labelled * TRAINING_MACS_PER_FORWARD * selector!;
          } else {
            trained.targetTraining +=
              event.labelled * (TRAINING_MACS_PER_FORWARD * target + teacher);
          }
        },
      });
      const { selectorTraining, targetTraining } = rows[i]!.macsToCompute;
      expect(trained, `run ${i}`).toEqual({ selectorTraining, targetTraining });
    }
  }, 600_000);
});
