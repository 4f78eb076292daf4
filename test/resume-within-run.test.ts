import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import { afterAll, describe, expect, it } from 'vitest';
import { untimedFigures } from '../packages/results/test/fixtures/untimed-figures.js';
import { runCli } from './cli-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-resume-within-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
experiment: resume-within
dataset: { name: mnist, trainSubset: 160, testSubset: 40 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: 0.5
budget: { initial: 40, milestones: [60, 80, 100], roundSize: 20 }
training: { epochs: 2, batchSize: 32, lr: 0.05, schedule: one-cycle, nesterov: true, augment: { translate: 2 } }
seeds: [0]
backend: wasm
report: false
`;

describe('`prunefuse run` killed with SIGKILL part-way through a run', () => {
  it('resumes it from its checkpoints and records what an uninterrupted run records', () => {
    const file = path.join(dir, 'resume.yaml');
    writeFileSync(file, CONFIG);
    const whole = path.join(dir, 'whole');
    expect(runCli(['run', file, '--out', whole]).status).toBe(0);

    const killed = path.join(dir, 'killed');
    const crashed = runCli(['run', file, '--out', killed], {
      PRUNEFUSE_CRASH_AT: 'store:checkpoint-saved#2',
    });
    // Killed by its own SIGKILL (tsx reports the child's signal as 128 + 9).
    expect([null, 137], crashed.stderr).toContain(crashed.status);
    const store = new ResultsStore(killed);
    const [id] = readdirSync(store.checkpointsDir).map((f) => f.replace(/\.json$/, ''));
    const saved = store.readCheckpoint(id!);
    expect(saved.state === 'saved' && saved.checkpoint.targets.length).toBe(2);

    const rerun = runCli(['run', file, '--out', killed]);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`resuming interrupted run ${id}`);
    const resumed = store.read(id!);
    expect(resumed.resumed?.targets).toEqual([60, 80]);
    expect(resumed.selection?.replayedFrom).toBe(id);
    expect(untimedFigures(resumed)).toEqual(untimedFigures(new ResultsStore(whole).read(id!)));
    expect(readdirSync(store.checkpointsDir)).toEqual([]);

    // Killed again, now half-way through a training: each two-epoch training saves its
    // state after its first epoch (the selectors on 40 and on 60, then the target on 60).
    const midTraining = path.join(dir, 'mid-training');
    const cut = runCli(['run', file, '--out', midTraining], {
      PRUNEFUSE_CRASH_AT: 'store:training-saved#3',
    });
    expect([null, 137], cut.stderr).toContain(cut.status);
    const again = runCli(['run', file, '--out', midTraining]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(
      `run ${id}: resuming its target training on 60 labelled after epoch 1`,
    );
    const continued = new ResultsStore(midTraining).read(id!);
    expect(continued.resumed).toBeUndefined(); // no whole target was saved before the kill
    expect(untimedFigures(continued)).toEqual(untimedFigures(new ResultsStore(whole).read(id!)));
  });
});
