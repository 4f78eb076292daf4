import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import { MlflowClient, MlflowTracker, SyncMarkers, syncStore } from '@prunefuse/tracking';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closedLoopbackUri,
  type FakeMlflow,
  type FakeRun,
  type Intercept,
  mlflowError,
  startFakeMlflow,
} from '../../tracking/test/fixtures/fake-mlflow-server.js';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import type { SweepProgress } from '../src/progress/reporter.js';
import { runSweep } from '../src/sweep.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

// sizes 40, 80: the fixture trains the selector once (2 epochs), one round, one target (2 epochs)
const runs = expandSweep(
  parseExperiment(
    'experiments/tracked.yaml',
    `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: 0.5
  - random
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 2 }
seeds: [1]
`,
  ),
  describeTestDataset,
).runs;
const [prunefuse, random] = runs as [(typeof runs)[0], (typeof runs)[0]];

const silent: SweepProgress = {
  sweepStarted: () => {},
  runStarted: () => {},
  runEvent: () => {},
  runEnded: () => {},
  log: () => {},
  sweepEnded: () => {},
};

let server: FakeMlflow;
let root: string;
let store: ResultsStore;
beforeEach(async () => {
  server = await startFakeMlflow();
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-mlflow-'));
  store = ResultsStore.open(root);
});
afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

async function trackedSweep(
  trackingUri: string,
  options: { failing?: Set<string>; flushMs?: number } = {},
) {
  const warnings: string[] = [];
  const tracker = new MlflowTracker(new MlflowClient({ trackingUri, timeoutMs: 5_000 }), {
    store,
    warn: (message) => warnings.push(message),
    flushMs: options.flushMs,
  });
  const summary = await runSweep({
    runs,
    store,
    execute: fixtureExecutor({ epochMs: 1, failing: options.failing }),
    environment: async () => TEST_ENVIRONMENT,
    progress: silent,
    tracker,
  });
  return { summary, warnings, tracker };
}

function mlflowRunOf(id: string) {
  return [...server.runs.values()].filter((run) => run.tags.get('prunefuse.run_id') === id);
}

describe('MLflow tracking of a sweep', () => {
  it('makes each run an MLflow run: params, metrics with steps, tags, artifacts, FINISHED', async () => {
    const { summary, warnings, tracker } = await trackedSweep(server.uri);
    expect(summary.executed).toHaveLength(2);
    expect(warnings).toEqual([]);
    expect(tracker.active).toBe(true);
    expect([...server.experiments.values()].map((e) => e.name)).toEqual(['tracked']);

    const [run] = mlflowRunOf(prunefuse.id);
    expect(mlflowRunOf(prunefuse.id)).toHaveLength(1);
    expect(run!.info.status).toBe('FINISHED');
    expect(run!.info.run_name).toBe(
      `prunefuse p=0.5 resnet8-digits least-confidence seed 1 (${prunefuse.id})`,
    );
    expect(Object.fromEntries(run!.params)).toMatchObject({
      'method.name': 'prunefuse',
      'method.prune': '0.5',
      'budget.milestones': '[80]',
      'selectorTraining.epochs': '2',
      seed: '1',
      backend: 'auto',
    });
    expect(Object.fromEntries(run!.tags)).toMatchObject({
      backend: 'cpu',
      device: 'fixture',
      method: 'prunefuse',
      git_commit: TEST_ENVIRONMENT.gitCommit,
      'mlflow.source.git.commit': TEST_ENVIRONMENT.gitCommit,
    });
    const steps = (key: string) => run!.metrics.filter((m) => m.key === key).map((m) => m.step);
    expect(steps('selector.train_loss')).toEqual([0, 1]);
    expect(steps('target.test_accuracy')).toEqual([0, 1]);
    expect(steps('round.labelled')).toEqual([0]);
    expect(steps('budget.accuracy')).toEqual([80]);
    expect(steps('final.accuracy')).toEqual([0]);

    const record = readFileSync(store.recordPath(prunefuse.id));
    const artifactRoot = `${run!.info.experiment_id}/${run!.info.run_id}/artifacts`;
    expect(server.artifacts.get(`${artifactRoot}/run-record.json`)).toEqual(record);
    expect(JSON.parse(server.artifacts.get(`${artifactRoot}/config.json`)!.toString())).toEqual(
      prunefuse.config,
    );
    expect(new SyncMarkers(store, server.uri).get(prunefuse.id)).toMatchObject({
      complete: true,
      mlflowRunId: run!.info.run_id,
    });

    const client = new MlflowClient({ trackingUri: server.uri });
    expect(await syncStore(store, client)).toMatchObject({
      uploaded: [],
      alreadySynced: [prunefuse.id, random.id].sort(),
    });
  });

  it('marks the MLflow run of a failed run FAILED', async () => {
    const { summary } = await trackedSweep(server.uri, { failing: new Set([random.id]) });
    expect(summary.failed.map((f) => f.id)).toEqual([random.id]);
    expect(mlflowRunOf(random.id).map((r) => r.info.status)).toEqual(['FAILED']);
    expect(mlflowRunOf(prunefuse.id).map((r) => r.info.status)).toEqual(['FINISHED']);
  });

  it('with the server down, writes the results, reports once by ECONNREFUSED, and sync uploads them later', async () => {
    const down = await closedLoopbackUri();
    const { summary, warnings, tracker } = await trackedSweep(down.uri);
    expect(summary.executed).toHaveLength(2);
    expect(store.ids()).toHaveLength(2);
    expect(tracker.active).toBe(false);
    const refused =
      `MLflow GET ${down.uri}/api/2.0/mlflow/experiments/get-by-name: ECONNREFUSED: ` +
      `connect ECONNREFUSED 127.0.0.1:${down.port}; ` +
      'nothing listens there: is the MLflow server running, on that host and port?';
    expect(warnings).toEqual([
      `MLflow tracking at ${down.uri} failed: ${refused}. Results are still written to ${root}; ` +
        `upload them later with: pnpm prunefuse mlflow sync ${root} --mlflow ${down.uri}`,
    ]);

    const client = new MlflowClient({ trackingUri: down.uri, timeoutMs: 5_000 });
    const unreachable = await syncStore(store, client);
    expect(unreachable.uploaded).toEqual([]);
    expect(unreachable.failed).toEqual([{ id: store.ids()[0], message: refused }]);
    expect(unreachable.notAttempted).toEqual(store.ids().slice(1));

    const revived = await startFakeMlflow(down.port);
    try {
      const synced = await syncStore(store, client);
      expect(synced.uploaded.sort()).toEqual([prunefuse.id, random.id].sort());
      const runsUp = [...revived.runs.values()];
      expect(runsUp.map((r) => r.info.status)).toEqual(['FINISHED', 'FINISHED']);
      const up = runsUp.find((r) => r.tags.get('prunefuse.run_id') === prunefuse.id)!;
      expect(up.info.start_time).toBe(Date.parse(store.read(prunefuse.id).startedAt));
      expect(up.metrics.filter((m) => m.key === 'selector.train_loss').map((m) => m.step)).toEqual([
        0, 1,
      ]);
      expect(up.params.get('method.prune')).toBe('0.5');
      expect([...revived.artifacts.keys()]).toHaveLength(4);
      expect((await syncStore(store, client)).uploaded).toEqual([]);
    } finally {
      await revived.close();
    }
  });
});

const LOG_BATCH = '/api/2.0/mlflow/runs/log-batch';
const RUNS_CREATE = '/api/2.0/mlflow/runs/create';
const hasMetrics = (body: unknown) => ((body as { metrics?: unknown[] }).metrics ?? []).length > 0;
const databaseLocked = { status: 500, body: mlflowError('INTERNAL_ERROR', 'database is locked') };

/** Answers requests that `matches` with `answer` from the `from`-th one on (1-based). */
function failFrom(
  from: number,
  matches: (path: string, body: unknown) => boolean,
  answer: ReturnType<Intercept>,
): Intercept {
  let seen = 0;
  return (request) => (matches(request.path, request.body) && ++seen >= from ? answer : undefined);
}

/** An MLflow run's metric history as `key@step=value`, sorted: what a chart shows. */
function metricRows(run: FakeRun): string[] {
  return run.metrics.map((m) => `${m.key}@${m.step}=${m.value}`).sort();
}

/** The store uploaded whole into a fresh server: the reference a resumed upload must equal. */
async function cleanUpload(): Promise<Map<string, string[]>> {
  const reference = await startFakeMlflow();
  try {
    await syncStore(store, new MlflowClient({ trackingUri: reference.uri }));
    return new Map(
      [...reference.runs.values()].map((r) => [r.tags.get('prunefuse.run_id')!, metricRows(r)]),
    );
  } finally {
    await reference.close();
  }
}

/** After the final sync: exactly one FINISHED MLflow run per store run, with a clean upload's metrics. */
async function expectOneFinishedRunPerStoreRun(): Promise<void> {
  const reference = await cleanUpload();
  expect(server.runs.size).toBe(store.ids().length);
  for (const id of store.ids()) {
    const mine = mlflowRunOf(id);
    expect(mine.map((r) => r.info.status)).toEqual(['FINISHED']);
    expect(metricRows(mine[0]!)).toEqual(reference.get(id));
    expect(new SyncMarkers(store, server.uri).get(id)).toMatchObject({
      complete: true,
      mlflowRunId: mine[0]!.info.run_id,
      finishedAt: store.read(id).finishedAt,
    });
  }
  const again = await syncStore(store, new MlflowClient({ trackingUri: server.uri }));
  expect(again).toMatchObject({ uploaded: [], failed: [], alreadySynced: store.ids() });
  expect(server.runs.size).toBe(store.ids().length);
}

describe('MLflow faults: no run left RUNNING, no duplicate after a new sync', () => {
  const logBatch500 = () =>
    `MLflow POST ${server.uri}/api/2.0/mlflow/runs/log-batch: HTTP 500 INTERNAL_ERROR: database is locked`;

  it('live: a 500 from log-batch marks the run FAILED at once; sync continues that same run', async () => {
    server.intercept = failFrom(
      1,
      (p, body) => p === LOG_BATCH && hasMetrics(body),
      databaseLocked,
    );
    const { summary, warnings } = await trackedSweep(server.uri);
    expect(summary.executed).toHaveLength(2);
    expect(warnings).toEqual([
      `MLflow tracking at ${server.uri} failed: ${logBatch500()}. Results are still written to ${root}; ` +
        `upload them later with: pnpm prunefuse mlflow sync ${root} --mlflow ${server.uri}`,
    ]);
    const [partial] = mlflowRunOf(prunefuse.id);
    expect(mlflowRunOf(prunefuse.id).map((r) => r.info.status)).toEqual(['FAILED']);
    // tracking stopped after the failure: the second run never reached the server
    expect(mlflowRunOf(random.id)).toEqual([]);
    expect(new SyncMarkers(store, server.uri).get(prunefuse.id)).toMatchObject({
      complete: false,
      mlflowRunId: partial!.info.run_id,
      finishedAt: store.read(prunefuse.id).finishedAt,
    });

    server.intercept = null;
    const synced = await syncStore(store, new MlflowClient({ trackingUri: server.uri }));
    expect(synced.uploaded.sort()).toEqual([prunefuse.id, random.id].sort());
    expect(mlflowRunOf(prunefuse.id)[0]).toBe(partial);
    await expectOneFinishedRunPerStoreRun();
  });

  it('live: cut after a few metric batches, sync sends only the steps the run lacks', async () => {
    // Events are sent as they come (flushMs 0; those arriving while a request is out go
    // together): the second metrics request of the first run, part-way through its curves
    // or its final metrics, fails.
    server.intercept = failFrom(
      2,
      (p, body) => p === LOG_BATCH && hasMetrics(body),
      databaseLocked,
    );
    const { warnings } = await trackedSweep(server.uri, { flushMs: 0 });
    expect(warnings).toHaveLength(1);
    expect([...server.runs.values()].map((r) => r.info.status)).toEqual(['FAILED']);
    const [partial] = [...server.runs.values()];
    const id = partial!.tags.get('prunefuse.run_id')!;
    const reference = await cleanUpload();
    expect(partial!.metrics.length).toBeGreaterThan(0);
    expect(partial!.metrics.length).toBeLessThan(reference.get(id)!.length);

    server.intercept = null;
    await syncStore(store, new MlflowClient({ trackingUri: server.uri }));
    expect(mlflowRunOf(id)[0]).toBe(partial);
    await expectOneFinishedRunPerStoreRun();
  });

  it('sync: a 500 after a few log-batch calls leaves the runs FAILED; the next sync continues them', async () => {
    await runSweep({
      runs,
      store,
      execute: fixtureExecutor({ epochMs: 1 }),
      environment: async () => TEST_ENVIRONMENT,
      progress: silent,
    });
    // Per run: params, the curves, the final metrics. The third request is the first
    // run's final metrics; the second run fails at its params.
    server.intercept = failFrom(3, (p) => p === LOG_BATCH, databaseLocked);
    const client = new MlflowClient({ trackingUri: server.uri });
    const cut = await syncStore(store, client);
    expect(cut.uploaded).toEqual([]);
    expect(cut.failed).toEqual(store.ids().map((id) => ({ id, message: logBatch500() })));
    expect([...server.runs.values()].map((r) => r.info.status)).toEqual(['FAILED', 'FAILED']);

    server.intercept = null;
    const resumed = await syncStore(store, client);
    expect(resumed.uploaded).toEqual(store.ids());
    await expectOneFinishedRunPerStoreRun();
  });

  it('sync: the connection cut mid-upload leaves the run to the marker; the next sync continues it', async () => {
    await runSweep({
      runs,
      store,
      execute: fixtureExecutor({ epochMs: 1 }),
      environment: async () => TEST_ENVIRONMENT,
      progress: silent,
    });
    server.intercept = failFrom(1, (p, body) => p === LOG_BATCH && hasMetrics(body), 'drop');
    const client = new MlflowClient({ trackingUri: server.uri });
    const cut = await syncStore(store, client);
    const [first, second] = store.ids();
    expect(cut.failed).toHaveLength(1);
    expect(cut.failed[0]!.message).toMatch(
      new RegExp(`^MLflow POST ${server.uri}/api/2\\.0/mlflow/runs/log-batch: [A-Z_]+: `),
    );
    expect(cut.notAttempted).toEqual([second]);
    // Unreachable: the run could not be closed, but the marker names it.
    const [partial] = [...server.runs.values()];
    expect(new SyncMarkers(store, server.uri).get(first!)).toMatchObject({
      complete: false,
      mlflowRunId: partial!.info.run_id,
    });

    server.intercept = null;
    await syncStore(store, client);
    expect(mlflowRunOf(first!)[0]).toBe(partial);
    await expectOneFinishedRunPerStoreRun();
  });

  it('sync: runs/create answered without run_id: the created run is FAILED, then continued', async () => {
    await runSweep({
      runs,
      store,
      execute: fixtureExecutor({ epochMs: 1 }),
      environment: async () => TEST_ENVIRONMENT,
      progress: silent,
    });
    server.rewrite = (request, answer) => {
      if (request.path !== RUNS_CREATE) return answer;
      const { run_id: _dropped, ...info } = (answer as { run: { info: { run_id: string } } }).run
        .info;
      return { run: { info } };
    };
    const client = new MlflowClient({ trackingUri: server.uri });
    const cut = await syncStore(store, client);
    expect(cut.uploaded).toEqual([]);
    expect(cut.failed.map((f) => f.message)).toEqual(
      store
        .ids()
        .map(() =>
          expect.stringMatching(
            `^MLflow POST ${server.uri}/api/2\\.0/mlflow/runs/create: HTTP 200 INVALID_RESPONSE: the answer lacks run\\.info\\.run_id: `,
          ),
        ),
    );
    expect([...server.runs.values()].map((r) => r.info.status)).toEqual(['FAILED', 'FAILED']);

    server.rewrite = null;
    const created = [...server.runs.values()];
    await syncStore(store, client);
    expect(store.ids().map((id) => mlflowRunOf(id)[0])).toEqual(created);
    await expectOneFinishedRunPerStoreRun();
  });

  it('sync: a record computed again is uploaded again; the earlier MLflow run stays as it was', async () => {
    const sweep = () =>
      runSweep({
        runs,
        store,
        execute: fixtureExecutor({ epochMs: 1 }),
        environment: async () => TEST_ENVIRONMENT,
        progress: silent,
      });
    await sweep();
    const client = new MlflowClient({ trackingUri: server.uri });
    await syncStore(store, client);
    const [earlier] = mlflowRunOf(prunefuse.id);
    store.moveAside(prunefuse.id, 'recomputed by the test', { into: 'stale' });
    await sweep();
    const again = await syncStore(store, client);
    expect(again).toMatchObject({ uploaded: [prunefuse.id], alreadySynced: [random.id] });
    const both = mlflowRunOf(prunefuse.id);
    expect(both[0]).toBe(earlier);
    expect(both.map((r) => r.info.status)).toEqual(['FINISHED', 'FINISHED']);
    expect(new SyncMarkers(store, server.uri).get(prunefuse.id)).toMatchObject({
      complete: true,
      mlflowRunId: both[1]!.info.run_id,
      finishedAt: store.read(prunefuse.id).finishedAt,
    });
  });

  it('sync: runs/create answered without run.info: refused by field, and the next sync uploads', async () => {
    await runSweep({
      runs,
      store,
      execute: fixtureExecutor({ epochMs: 1 }),
      environment: async () => TEST_ENVIRONMENT,
      progress: silent,
    });
    server.intercept = failFrom(1, (p) => p === RUNS_CREATE, {
      status: 200,
      body: JSON.stringify({ run: { data: {} } }),
    });
    const client = new MlflowClient({ trackingUri: server.uri });
    const cut = await syncStore(store, client);
    expect(cut.failed.map((f) => f.message)).toEqual(
      store
        .ids()
        .map(
          () =>
            `MLflow POST ${server.uri}/api/2.0/mlflow/runs/create: HTTP 200 INVALID_RESPONSE: ` +
            'the answer lacks run.info: {"run":{"data":{}}}',
        ),
    );
    server.intercept = null;
    await syncStore(store, client);
    await expectOneFinishedRunPerStoreRun();
  });
});
