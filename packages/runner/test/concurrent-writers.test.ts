import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { readExperiment } from '../src/config/load.js';
import type { SweepSummary } from '../src/sweep.js';
import { startFixture } from './fixtures/child-process.js';
import { describeTestDataset } from './fixtures/datasets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-concurrent-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('two sweeps writing one store', () => {
  it('execute every run exactly once between them and leave a readable store', async () => {
    const config = path.join(dir, 'shared.yaml');
    writeFileSync(
      config,
      `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning, random]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 2 }
seeds: [1, 2, 3, 4]
`,
    );
    const ids = expandSweep(readExperiment(config), describeTestDataset).runs.map((r) => r.id);
    const root = path.join(dir, 'store');
    const log = path.join(dir, 'executions.log');
    const startAt = String(Date.now() + 5_000);
    const sweeps = [0, 1].map(() =>
      startFixture('sweep-child.ts', [config, root, log, '120', startAt]),
    );
    const results = await Promise.all(sweeps.map((s) => s.done));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const summaries = results.map((r) => JSON.parse(r.stdout) as SweepSummary);

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (const kind of ['start', 'finish']) {
      expect(
        lines
          .filter((l) => l.startsWith(`${kind} `))
          .map((l) => l.split(' ')[1])
          .sort(),
      ).toEqual([...ids].sort());
    }
    const executed = summaries.flatMap((s) => s.executed);
    expect(executed.sort()).toEqual([...ids].sort());
    // Each sweep accounts for every run, whichever did it. How the runs split between the
    // two depends on scheduling (on a loaded machine one sweep may do them all before the
    // other starts), so the split itself is not asserted.
    for (const summary of summaries) {
      expect(summary.failed).toEqual([]);
      expect(
        [...summary.executed, ...summary.finishedElsewhere, ...summary.skipped].sort(),
      ).toEqual([...ids].sort());
    }

    const store = new ResultsStore(root);
    expect(store.records().map((r) => r.id)).toEqual([...ids].sort());
    expect(store.index().map((e) => e.id)).toEqual([...ids].sort());
    expect(readdirSync(store.claimsDir)).toEqual([]);
    expect(readdirSync(store.runsDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });
});
