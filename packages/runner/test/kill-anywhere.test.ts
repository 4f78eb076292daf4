import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore, type RunRecord } from '@prunefuse/results';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { readExperiment } from '../src/config/load.js';
import { startFixture } from './fixtures/child-process.js';
import { describeTestDataset } from './fixtures/datasets.js';

/**
 * The property behind crash safety: however a sweep is killed, rerunning it to the end
 * gives the store an uninterrupted sweep gives. A seeded schedule kills the sweep again
 * and again, half of the time at a random moment of its work and half of the time at a
 * named point inside a write (PRUNEFUSE_CRASH_AT: half a temporary file written, a
 * temporary complete but not renamed, a record in place but not indexed), which a kill at
 * a random time would hit only by luck. A run killed after some of its targets resumes
 * from its checkpoint (a named point: right after one is saved).
 */

const KILLS = 20;
const EPOCH_MS = 15;
const CRASH_POINTS = [
  'atomic-write:partial',
  'atomic-write:before-rename',
  'store:record-written',
  'store:checkpoint-saved',
];

/** mulberry32: a small seeded generator, so that a failing schedule can be replayed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-kill-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A record without what differs between two executions of the same run: its times, and
 * which of its targets a resumed attempt replayed from the checkpoint.
 */
function figures(record: RunRecord): unknown {
  const { startedAt: _s, finishedAt: _f, wallSeconds: _w, resumed: _r, ...rest } = record;
  return rest;
}

describe('a sweep killed at random moments', () => {
  it(`ends, once rerun, with the store of an uninterrupted sweep (${KILLS} kills)`, async () => {
    const config = path.join(dir, 'kill.yaml');
    writeFileSync(
      config,
      `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning, random]
budget: { initial: 40, milestones: [80, 120], roundSize: 40 }
training: { epochs: 2 }
seeds: [1, 2]
report: false
`,
    );
    const ids = expandSweep(readExperiment(config), describeTestDataset)
      .runs.map((r) => r.id)
      .sort();
    const sweep = (root: string, env: NodeJS.ProcessEnv = {}) =>
      startFixture('sweep-child.ts', [config, root, path.join(dir, 'log'), String(EPOCH_MS)], env);

    const reference = path.join(dir, 'reference');
    const uninterrupted = await sweep(reference).done;
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    const killed = path.join(dir, 'killed');
    const random = generator(16);
    const schedule: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      if (random() < 0.5) {
        const point = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)]!;
        const crashAt = `${point}#${1 + Math.floor(random() * 4)}`;
        schedule.push(crashAt);
        await sweep(killed, { PRUNEFUSE_CRASH_AT: crashAt }).done;
      } else {
        // Killed after a random share of the work one run takes: in a run, between runs,
        // or while writing.
        const delay = Math.floor(random() * 12 * EPOCH_MS);
        schedule.push(`${delay} ms`);
        const started = sweep(killed);
        await new Promise<void>((resolve) => {
          const armed = () => {
            setTimeout(() => {
              started.child.kill('SIGKILL');
              resolve();
            }, delay);
          };
          // from the sweep's first line: process start-up time is not the sweep's work
          started.child.stderr!.once('data', armed);
          started.child.once('close', () => resolve());
        });
        await started.done;
      }
    }
    const last = await sweep(killed).done;
    expect(last.code, `schedule ${schedule.join(', ')}\n${last.stderr}`).toBe(0);

    const expected = new ResultsStore(reference);
    const store = new ResultsStore(killed);
    expect(store.ids()).toEqual(ids);
    expect(store.records().map(figures)).toEqual(expected.records().map(figures));
    expect(store.index().map((e) => e.id)).toEqual(ids);
    // nothing left behind, nothing set aside: a crash never produces a damaged record
    expect(readdirSync(store.runsDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
    expect(existsSync(store.damagedDir)).toBe(false);
    expect(readdirSync(store.claimsDir)).toEqual([]);
    expect(readdirSync(store.journalsDir)).toEqual([]);
    expect(readdirSync(store.failuresDir)).toEqual([]);
    expect(readdirSync(store.checkpointsDir)).toEqual([]);
    expect(readdirSync(killed).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 600_000);
});
