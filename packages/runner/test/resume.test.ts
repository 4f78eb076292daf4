import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { readExperiment } from '../src/config/load.js';
import type { SweepSummary } from '../src/sweep.js';
import { startFixture, waitFor } from './fixtures/child-process.js';
import { describeTestDataset } from './fixtures/datasets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-resume-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** How many times each run id appears after `kind` in the execution log. */
function executions(log: string, kind: 'start' | 'finish'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [what, id] = line.split(' ');
    if (what === kind && id) counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe('resume after a kill', () => {
  it('a sweep killed with SIGKILL mid-run, rerun, skips finished runs, restarts the interrupted one, loses and duplicates nothing', async () => {
    const config = path.join(dir, 'resume.yaml');
    writeFileSync(
      config,
      `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 4 }
seeds: [1, 2, 3]
`,
    );
    const root = path.join(dir, 'store');
    const log = path.join(dir, 'executions.log');
    const [first, interrupted, last] = expandSweep(
      readExperiment(config),
      describeTestDataset,
    ).runs.map((r) => r.id) as [string, string, string];
    const store = new ResultsStore(root);

    const killed = startFixture('sweep-child.ts', [config, root, log, '150']);
    await waitFor(
      () =>
        store.has(first) &&
        store.journal(interrupted).filter((e) => e.type === 'epoch').length >= 2,
      'the second run to be two epochs in',
    );
    killed.child.kill('SIGKILL');
    expect((await killed.done).signal).toBe('SIGKILL');
    expect(store.ids()).toEqual([first]);
    expect(existsSync(path.join(store.claimsDir, `${interrupted}.lock`))).toBe(true);
    const attemptBefore = store.journal(interrupted)[0];

    const rerun = startFixture('sweep-child.ts', [config, root, log, '20']);
    const finished = await rerun.done;
    expect(finished.code, finished.stderr).toBe(0);
    const summary = JSON.parse(finished.stdout) as SweepSummary;
    expect(summary.skipped).toEqual([first]);
    expect(summary.executed).toEqual([interrupted, last]);

    expect(executions(log, 'start')).toEqual({ [first]: 1, [interrupted]: 2, [last]: 1 });
    expect(executions(log, 'finish')).toEqual({ [first]: 1, [interrupted]: 1, [last]: 1 });
    expect(store.records().map((r) => r.id)).toEqual([first, interrupted, last].sort());
    expect(store.read(interrupted).targets).toHaveLength(1);
    expect(store.index().map((e) => e.id)).toEqual([first, interrupted, last].sort());
    expect(readdirSync(store.claimsDir)).toEqual([]);
    expect(readdirSync(store.journalsDir)).toEqual([]);
    expect(readdirSync(store.runsDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
    // the interrupted attempt was a different process: the rerun replaced its journal
    expect(attemptBefore).toMatchObject({ type: 'start', pid: killed.child.pid });
    expect(finished.stderr).toContain(`${interrupted} finished`);
  });
});
