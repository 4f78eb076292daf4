import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@prunefuse/engine';
import { SelectionPhaseStore } from '@prunefuse/results';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { untimedFigures } from '../../results/test/fixtures/untimed-figures.js';
import { type ExpandedRun, expandSweep } from '../src/config/expand.js';
import { parseExperiment, readExperiment } from '../src/config/load.js';
import { describeDataset, executeRun } from '../src/execute-run.js';
import { selectionId } from '../src/run-id.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

const experimentsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../experiments',
);

describe('selection ids', () => {
  const runs = expandSweep(
    readExperiment(path.join(experimentsDir, 'fashion-mnist-resnet20.yaml')),
    describeTestDataset,
  ).runs;
  const idsOf = (keep: (run: ExpandedRun) => boolean) =>
    new Set(runs.filter(keep).map((run) => selectionId(run.config)));

  test('PruneFuse runs that differ only in their targets share one; seeds and methods do not', () => {
    const prunefuse = (seed: number) => (run: ExpandedRun) =>
      run.config.method.name === 'prunefuse' && run.config.seed === seed;
    // Seed 0: (a) scratch, (b) fused, (c) fused + KD and the 12 lambda x T runs at 5,000.
    expect(runs.filter(prunefuse(0))).toHaveLength(15);
    expect(idsOf(prunefuse(0)).size).toBe(1);
    expect(idsOf(prunefuse(1)).size).toBe(1);
    const [seed0] = idsOf(prunefuse(0));
    const [seed1] = idsOf(prunefuse(1));
    expect(seed0).not.toBe(seed1);
    const others = idsOf((run) => ['svp', 'active-learning'].includes(run.config.method.name));
    expect(others.size).toBe(4);
    expect(others.has(seed0!)).toBe(false);
    // Random and full select without a selector: nothing to share.
    expect(idsOf((run) => ['random', 'full'].includes(run.config.method.name))).toEqual(
      new Set([null]),
    );
  });

  test('change with what the selection depends on', () => {
    const config = runs.find((run) => run.config.method.name === 'prunefuse')!.config;
    const id = selectionId(config);
    const changed = [
      { ...config, selectorTraining: { ...config.selectorTraining, epochs: 14 } },
      { ...config, budget: { ...config.budget, roundSize: 500 } },
      { ...config, acquisition: 'entropy' as const },
      { ...config, method: { ...config.method, prune: 0.7 } as typeof config.method },
      { ...config, arch: 'resnet32' },
    ];
    for (const other of changed) expect(selectionId(other)).not.toBe(id);
    expect(
      selectionId({ ...config, targetTraining: { ...config.targetTraining, epochs: 3 } }),
    ).toBe(id);
  });
});

describe('a run replaying a stored selection phase', () => {
  const CONFIG = `
dataset: { name: mnist, trainSubset: 80, testSubset: 20 }
arch: resnet8-digits
methods:
  - name: prunefuse
    fusion: true
    kd: [false, true]
budget: { initial: 20, milestones: [30, 50], roundSize: 10 }
training: { epochs: 2, batchSize: 16, schedule: one-cycle, nesterov: true, lr: 0.05, augment: { translate: 2 }, evalEvery: 2 }
seeds: [4]
`;
  const [fusedOnly, fusedWithKd] = expandSweep(
    parseExperiment('shared.yaml', CONFIG),
    describeDataset,
  ).runs as [ExpandedRun, ExpandedRun];
  let root: string;

  beforeAll(async () => {
    await selectBackend('wasm');
    root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-shared-selection-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const execute = (run: ExpandedRun, selections: SelectionPhaseStore) =>
    executeRun(run.config, {
      id: run.id,
      environment: TEST_ENVIRONMENT,
      emit: () => {},
      selections,
    });

  test('records what computing it records, θp*-derived targets and selection MACs included', async () => {
    const shared = new SelectionPhaseStore(path.join(root, 'shared'));
    const first = await execute(fusedOnly, shared);
    const selection = selectionId(fusedOnly.config)!;
    expect(first.selection).toEqual({ id: selection, replayedFrom: null });
    expect(shared.read(selection)!.run).toBe(fusedOnly.id);

    const replayed = await execute(fusedWithKd, shared);
    expect(replayed.selection).toEqual({ id: selection, replayedFrom: fusedOnly.id });
    const computed = await execute(fusedWithKd, new SelectionPhaseStore(path.join(root, 'own')));
    expect(computed.selection).toEqual({ id: selection, replayedFrom: null });

    expect(untimedFigures(replayed)).toEqual(untimedFigures(computed));
    expect(replayed.rounds.map((r) => r.selected)).toEqual(first.rounds.map((r) => r.selected));
    expect(replayed.macs.selectorTraining + replayed.macs.poolScoring).toBe(
      computed.macs.selectorTraining + computed.macs.poolScoring,
    );
  }, 300_000);
});
