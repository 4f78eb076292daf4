import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '@prunefuse/results';
import {
  MlflowClient,
  MlflowError,
  MlflowTracker,
  SyncMarkers,
  syncStore,
} from '@prunefuse/tracking';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import type { SweepProgress } from '../src/progress/reporter.js';
import { runSweep } from '../src/sweep.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { type FakeMlflow, mlflowError, startFakeMlflow } from './fixtures/fake-mlflow-server.js';
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

/** A URI where nothing listens: a port just freed. */
async function deadUri(): Promise<{ uri: string; port: number }> {
  const probe = await startFakeMlflow();
  await probe.close();
  return { uri: probe.uri, port: probe.port };
}

async function trackedSweep(trackingUri: string, options: { failing?: Set<string> } = {}) {
  const warnings: string[] = [];
  const tracker = new MlflowTracker(new MlflowClient({ trackingUri, timeoutMs: 5_000 }), {
    store,
    warn: (message) => warnings.push(message),
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

describe('MLflow client', () => {
  it('finds or creates an experiment, also when another client creates it at the same moment', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    const id = await client.ensureExperiment('quick');
    expect(await client.ensureExperiment('quick')).toBe(id);
    expect(server.experiments.size).toBe(1);

    // Another client creates 'raced' between our lookup and our create.
    let lookups = 0;
    server.intercept = (request) => {
      if (!request.path.startsWith('/api/2.0/mlflow/experiments/get-by-name') || lookups++ > 0)
        return undefined;
      server.createExperimentDirectly('raced');
      return {
        status: 404,
        body: mlflowError('RESOURCE_DOES_NOT_EXIST', "Could not find experiment with name 'raced'"),
      };
    };
    const raced = await client.ensureExperiment('raced');
    expect(server.experiments.get(raced)?.name).toBe('raced');
    expect(
      server.requests.filter((r) => r.path === '/api/2.0/mlflow/experiments/create').at(-1),
    ).toBeDefined();
  });

  it('splits log-batch within MLflow limits: 1000 metrics, 100 params, 100 tags per request', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    const experimentId = await client.ensureExperiment('limits');
    const run = await client.createRun({ experimentId, runName: 'r', startTime: 1, tags: [] });
    const metrics = Array.from({ length: 2500 }, (_, i) => ({
      key: 'm',
      value: i,
      timestamp: 1,
      step: i,
    }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: String(i) }));
    params.push({ key: 'long', value: 'x'.repeat(700) });
    await client.logBatch(run.run_id, { metrics, params, tags });
    const stored = server.runs.get(run.run_id)!;
    expect(stored.metrics.map((m) => m.step)).toEqual(metrics.map((m) => m.step));
    expect(stored.params.size).toBe(251);
    expect(stored.tags.size).toBe(120);
    expect(stored.params.get('long')).toBe(`${'x'.repeat(497)}...`);
    const batches = server.requests.filter((r) => r.path === '/api/2.0/mlflow/runs/log-batch');
    expect(batches).toHaveLength(3 + 3);
  });

  it('turns MLflow error responses into MlflowError with status and error code', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    const failure = client.createRun({ experimentId: '999', runName: 'r', startTime: 1, tags: [] });
    await expect(failure).rejects.toThrow(
      'MLflow mlflow/runs/create: 404 RESOURCE_DOES_NOT_EXIST: No Experiment with id=999 exists',
    );
    await expect(failure).rejects.toBeInstanceOf(MlflowError);
    server.intercept = () => ({ status: 502, body: '<html>Bad Gateway</html>' });
    await expect(client.getExperimentByName('x')).rejects.toMatchObject({
      status: 502,
      errorCode: 'HTTP_ERROR',
    });
  });

  it('uploads artifacts where the artifact proxy serves the run artifact_uri', async () => {
    const client = new MlflowClient({ trackingUri: `${server.uri}/` });
    await client.uploadArtifact('mlflow-artifacts:/3/abc/artifacts', 'sub dir/run.json', '{"a":1}');
    expect([...server.artifacts.keys()]).toEqual(['3/abc/artifacts/sub dir/run.json']);
    await expect(
      client.uploadArtifact('s3://bucket/3/abc/artifacts', 'x.json', '{}'),
    ).rejects.toThrow(
      "MLflow run artifact_uri 's3://bucket/3/abc/artifacts' is not served by the tracking server",
    );
    expect(() => new MlflowClient({ trackingUri: 'file:///tmp/mlruns' })).toThrow(
      'expected an http:// or https:// server',
    );
  });
});

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

  it('with the server down, writes the results, reports once, and sync uploads them later', async () => {
    const down = await deadUri();
    const { summary, warnings, tracker } = await trackedSweep(down.uri);
    expect(summary.executed).toHaveLength(2);
    expect(store.ids()).toHaveLength(2);
    expect(tracker.active).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`MLflow tracking at ${down.uri} failed`);
    expect(warnings[0]).toContain(`pnpm prunefuse mlflow sync ${root}`);

    const client = new MlflowClient({ trackingUri: down.uri, timeoutMs: 5_000 });
    const unreachable = await syncStore(store, client);
    expect(unreachable.uploaded).toEqual([]);
    expect(unreachable.failed).toHaveLength(1);
    expect(unreachable.notAttempted).toHaveLength(1);

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

  it('on a 500 from log-batch, reports once, stops tracking, and sync replaces the partial run', async () => {
    server.intercept = (request) =>
      request.path === '/api/2.0/mlflow/runs/log-batch' &&
      ((request.body as { metrics: unknown[] }).metrics ?? []).length > 0
        ? { status: 500, body: mlflowError('INTERNAL_ERROR', 'database is locked') }
        : undefined;
    const { summary, warnings } = await trackedSweep(server.uri);
    expect(summary.executed).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('500 INTERNAL_ERROR: database is locked');
    const partial = mlflowRunOf(prunefuse.id);
    expect(partial.map((r) => r.info.status)).toEqual(['RUNNING']);
    // tracking stopped after the failure: the second run never reached the server
    expect(mlflowRunOf(random.id)).toEqual([]);
    expect(new SyncMarkers(store, server.uri).get(prunefuse.id)?.complete).toBe(false);

    server.intercept = null;
    const synced = await syncStore(store, new MlflowClient({ trackingUri: server.uri }));
    expect(synced.uploaded.sort()).toEqual([prunefuse.id, random.id].sort());
    expect(mlflowRunOf(prunefuse.id).map((r) => r.info.status)).toEqual(['FAILED', 'FINISHED']);
    expect(mlflowRunOf(random.id).map((r) => r.info.status)).toEqual(['FINISHED']);
  });
});
