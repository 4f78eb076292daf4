import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExpandedRun, expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import type { SweepProgress } from '../src/progress/reporter.js';
import { type ExecuteRun, runSweep } from '../src/sweep.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

const CONFIG = `
dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning, random]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 2 }
seeds: [1, 2]
`;

let root: string;
let store: ResultsStore;
const runs: ExpandedRun[] = expandSweep(
  parseExperiment('experiments/unit.yaml', CONFIG),
  describeTestDataset,
).runs;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-sweep-'));
  store = ResultsStore.open(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function recordingProgress() {
  const calls: string[] = [];
  const progress: SweepProgress = {
    sweepStarted: (pending, finished) => calls.push(`sweep ${pending.length} ${finished}`),
    runStarted: (run) => calls.push(`start ${run.id}`),
    runEvent: (id, event) => calls.push(`${event.type} ${id}`),
    runEnded: (id, outcome, detail) =>
      calls.push(`end ${id} ${outcome}${detail ? ` ${detail}` : ''}`),
    log: (message) => calls.push(`log ${message}`),
    sweepEnded: () => calls.push('sweep end'),
  };
  return { calls, progress };
}

function sweep(execute: ExecuteRun, progress = recordingProgress().progress) {
  return runSweep({
    runs,
    store,
    execute,
    environment: async () => TEST_ENVIRONMENT,
    progress,
    pollMs: 20,
  });
}

describe('runSweep', () => {
  it('executes every run, writes its record, and skips finished runs when run again', async () => {
    const { calls, progress } = recordingProgress();
    const summary = await sweep(fixtureExecutor({ epochMs: 1 }), progress);
    expect(summary.executed).toEqual(runs.map((r) => r.id));
    expect(store.ids()).toEqual(runs.map((r) => r.id).sort());
    expect(store.read(runs[0]!.id).environment).toEqual(TEST_ENVIRONMENT);
    expect(
      store
        .index()
        .map((e) => e.method)
        .sort(),
    ).toEqual(['active-learning', 'active-learning', 'random', 'random']);
    expect(readdirSync(store.journalsDir)).toEqual([]);
    expect(readdirSync(store.claimsDir)).toEqual([]);

    const first = runs[0]!.id; // active-learning: one selection round, then the target
    expect(calls.filter((c) => c.endsWith(first))).toEqual([
      `start ${first}`,
      `epoch ${first}`,
      `epoch ${first}`,
      `round ${first}`,
      `epoch ${first}`,
      `epoch ${first}`,
      `target ${first}`,
    ]);
    expect(calls[0]).toBe('sweep 4 0');
    expect(calls.at(-1)).toBe('sweep end');

    let executions = 0;
    const again = await sweep(async () => {
      executions++;
      throw new Error('must not run');
    });
    expect(executions).toBe(0);
    expect(again).toMatchObject({
      total: 4,
      executed: [],
      skipped: runs.map((r) => r.id),
      failed: [],
    });
  });

  it('records a failed run, releases its claim, goes on, and retries it next time', async () => {
    const broken = runs[1]!.id;
    const { calls, progress } = recordingProgress();
    const summary = await sweep(
      fixtureExecutor({ epochMs: 1, failing: new Set([broken]) }),
      progress,
    );
    expect(summary.failed).toEqual([{ id: broken, message: `fixture failure in ${broken}` }]);
    expect(summary.executed).toHaveLength(3);
    expect(calls).toContain(`end ${broken} failed fixture failure in ${broken}`);
    expect(store.has(broken)).toBe(false);
    expect(store.failures()).toEqual([
      expect.objectContaining({ id: broken, message: `fixture failure in ${broken}` }),
    ]);
    expect(store.failures()[0]!.stack).toContain('fixture-executor');
    expect(readdirSync(store.claimsDir)).toEqual([]);
    // the failed attempt's journal stays for a post-mortem: its header and the one epoch it finished
    expect(store.journal(broken).map((e) => e.type)).toEqual(['start', 'epoch']);

    const retry = await sweep(fixtureExecutor({ epochMs: 1 }));
    expect(retry.executed).toEqual([broken]);
    expect(store.failures()).toEqual([]);
    expect(store.ids()).toHaveLength(4);
  });

  it('rejects a record that does not carry the run id', async () => {
    const execute: ExecuteRun = async (config, context) => {
      const record = await fixtureExecutor({ epochMs: 0 })(config, context);
      return { ...record, id: 'someone-else' };
    };
    const summary = await sweep(execute);
    expect(summary.failed[0]!.message).toBe(
      `the run returned a record with id 'someone-else'; expected '${runs[0]!.id}'`,
    );
    expect(store.ids()).toEqual([]);
  });

  it('waits for runs another sweep holds: runs them when released, skips them when finished there', async () => {
    const [released, finishedThere] = [runs[0]!, runs[1]!];
    const held = [store.claim(released.id), store.claim(finishedThere.id)];
    if (!held[0]!.claimed || !held[1]!.claimed) throw new Error('expected to hold both claims');
    const other = held as Array<{ claimed: true; claim: { release(): void } }>;
    setTimeout(async () => {
      other[0]!.claim.release();
      const record = await fixtureExecutor({ epochMs: 0 })(finishedThere.config, {
        id: finishedThere.id,
        environment: TEST_ENVIRONMENT,
        emit: () => {},
      });
      store.write(record);
      other[1]!.claim.release();
    }, 200);
    const { calls, progress } = recordingProgress();
    const summary = await sweep(fixtureExecutor({ epochMs: 1 }), progress);
    expect(summary.executed.sort()).toEqual([released.id, runs[2]!.id, runs[3]!.id].sort());
    expect(summary.finishedElsewhere).toEqual([finishedThere.id]);
    expect(calls).toContain(`end ${finishedThere.id} finished-elsewhere`);
    expect(
      calls.some((c) =>
        c.startsWith(`log run ${released.id} is being executed by pid ${process.pid} on`),
      ),
    ).toBe(true);
  });
});

describe('run checkpoints', () => {
  const run = runs[0]!; // active-learning: one round, then its target at 80
  const sweepOne = (
    execute: ExecuteRun,
    progress = recordingProgress().progress,
    environment = TEST_ENVIRONMENT,
  ) => runSweep({ runs: [run], store, execute, environment: async () => environment, progress });
  /** The fixture, killed (here: throwing) right after it saved its first target. */
  const killedAfterSaving: ExecuteRun = (config, context) =>
    fixtureExecutor({ epochMs: 0 })(config, {
      ...context,
      checkpoints: {
        ...context.checkpoints!,
        save(targets) {
          context.checkpoints!.save(targets);
          throw new Error('killed');
        },
      },
    });

  it('an attempt resumes the targets an interrupted one saved on the same engine; finishing removes them', async () => {
    expect((await sweepOne(killedAfterSaving)).failed).toHaveLength(1);
    const saved = store.readCheckpoint(run.id);
    expect(saved).toMatchObject({
      state: 'saved',
      checkpoint: {
        id: run.id,
        backend: TEST_ENVIRONMENT.backend,
        device: TEST_ENVIRONMENT.device,
        firstAttempt: { gitCommit: TEST_ENVIRONMENT.gitCommit },
      },
    });
    if (saved.state !== 'saved') throw new Error('unreachable');
    expect(saved.checkpoint.targets.map((t) => t.record.labelled)).toEqual([80]);

    const { calls, progress } = recordingProgress();
    expect((await sweepOne(fixtureExecutor({ epochMs: 0 }), progress)).executed).toEqual([run.id]);
    expect(store.read(run.id).resumed).toEqual({
      targets: [80],
      firstStartedAt: saved.checkpoint.firstAttempt.startedAt,
      firstGitCommit: TEST_ENVIRONMENT.gitCommit,
    });
    expect(store.read(run.id).targets).toEqual(saved.checkpoint.targets.map((t) => t.record));
    expect(calls.find((c) => c.startsWith(`log resuming interrupted run ${run.id}`))).toContain(
      'it goes on from what it saved (1/1 targets saved) and the selection rounds stored',
    );
    expect(store.readCheckpoint(run.id)).toEqual({ state: 'absent' });
  });

  it('targets saved on another backend or device are trained again, and replaced', async () => {
    await sweepOne(killedAfterSaving);
    const elsewhere = { ...TEST_ENVIRONMENT, device: 'another device' };
    const { calls, progress } = recordingProgress();
    const killedAgain = await sweepOne(killedAfterSaving, progress, elsewhere);
    expect(killedAgain.failed).toHaveLength(1);
    expect(calls).toContain(
      `log run ${run.id}: its checkpoint's 1 target(s) were trained on cpu (fixture), this sweep runs on cpu (another device): they are trained again here`,
    );
    expect(store.readCheckpoint(run.id)).toMatchObject({
      state: 'saved',
      checkpoint: { device: 'another device' },
    });
    await sweepOne(fixtureExecutor({ epochMs: 0 }), recordingProgress().progress, elsewhere);
    expect(store.read(run.id).resumed?.targets).toEqual([80]);
  });

  it('a damaged checkpoint is reported and every target trained; cleanLeftovers removes a finished run’s', async () => {
    await sweepOne(killedAfterSaving);
    writeFileSync(store.checkpointPath(run.id), '{"schema": 1, "id": ');
    const { calls, progress } = recordingProgress();
    await sweepOne(fixtureExecutor({ epochMs: 0 }), progress);
    expect(
      calls.find((c) => c.startsWith(`log run ${run.id}: its checkpoint cannot be read`)),
    ).toContain(`${store.checkpointPath(run.id)}: not valid JSON`);
    expect(store.read(run.id).resumed).toBeUndefined();

    // A sweep killed between writing a record and removing the checkpoint leaves one behind.
    writeFileSync(store.checkpointPath(run.id), '{}');
    writeFileSync(store.trainingCheckpointPath(run.id), '');
    expect(store.cleanLeftovers().removed).toEqual([
      `${store.checkpointPath(run.id)} (checkpoint of a finished run)`,
      `${store.trainingCheckpointPath(run.id)} (checkpoint of a finished run)`,
    ]);
    expect(readdirSync(store.checkpointsDir)).toEqual([]);
  });

  it('a training state resumes under its key on the same engine only, and says so', async () => {
    const state = {
      epochs: [{ epoch: 0, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, seconds: 1 }],
      examplesSeen: 40,
      optimizer: { layout: 'tfjs-velocities' as const, values: new Float32Array([1, 2]) },
      weights: new Map([['w', { shape: [2], values: new Float32Array([3, 4]) }]]),
    };
    const loaded: Array<unknown> = [];
    const probe =
      (save: boolean): ExecuteRun =>
      async (_config, context) => {
        if (save) context.checkpoints!.training.save('target/40/0123456789abcdef', state);
        loaded.push(
          context.checkpoints!.training.load('target/40/0123456789abcdef'),
          context.checkpoints!.training.load('selector/0123456789abcdef'),
        );
        throw new Error('stop here');
      };
    await sweepOne(probe(true));
    const { calls, progress } = recordingProgress();
    await sweepOne(probe(false), progress);
    await sweepOne(probe(false), recordingProgress().progress, {
      ...TEST_ENVIRONMENT,
      device: 'another device',
    });
    expect(loaded).toEqual([state, null, state, null, null, null]);
    expect(calls).toContain(`log run ${run.id}: resuming its target training on 40 labelled after epoch 1`);
  });
});
