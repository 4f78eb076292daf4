import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlflowClient, MlflowError, MlflowIncompleteRunError } from '../src/client.js';
import {
  closedLoopbackUri,
  type FakeMlflow,
  mlflowError,
  startFakeMlflow,
} from './fixtures/fake-mlflow-server.js';

let server: FakeMlflow;
beforeEach(async () => {
  server = await startFakeMlflow();
});
afterEach(async () => {
  await server.close();
});

const api = (endpoint: string) => `${server.uri}/api/2.0/mlflow/${endpoint}`;

async function newRun(client: MlflowClient) {
  const experimentId = await client.ensureExperiment('faults');
  return client.createRun({ experimentId, runName: 'r', startTime: 1, tags: [] });
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
    const run = await newRun(client);
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

  it('reads a run back: info, params and the latest step of each metric; null for an unknown id', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    const run = await newRun(client);
    await client.logBatch(run.run_id, {
      params: [{ key: 'seed', value: '1' }],
      metrics: [0, 1, 2].map((step) => ({
        key: 'loss',
        value: 1 / (step + 1),
        timestamp: 5,
        step,
      })),
    });
    const state = await client.getRun(run.run_id);
    expect(state).toEqual({
      info: run,
      deleted: false,
      paramKeys: new Set(['seed']),
      latestSteps: new Map([['loss', 2]]),
    });
    expect(await client.getRun('0123')).toBeNull();
  });

  it('uploads artifacts where the artifact proxy serves the run artifact_uri', async () => {
    const client = new MlflowClient({ trackingUri: `${server.uri}/` });
    await client.uploadArtifact('mlflow-artifacts:/3/abc/artifacts', 'sub dir/run.json', '{"a":1}');
    expect([...server.artifacts.keys()]).toEqual(['3/abc/artifacts/sub dir/run.json']);
    for (const uri of ['s3://bucket/3/abc/artifacts', 'no uri at all']) {
      await expect(client.uploadArtifact(uri, 'x.json', '{}')).rejects.toThrow(
        `MLflow run artifact_uri '${uri}' is not served by the tracking server; ` +
          'start the server with --serve-artifacts (the default) and an mlflow-artifacts:/ artifact root',
      );
    }
  });
});

describe('MLflow client errors name the request, the status or network code, and the cause', () => {
  it('an error answer: method and URL, HTTP status, MLflow error code and message', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    const failure = client.createRun({ experimentId: '999', runName: 'r', startTime: 1, tags: [] });
    await expect(failure).rejects.toThrow(
      `MLflow POST ${api('runs/create')}: HTTP 404 RESOURCE_DOES_NOT_EXIST: No Experiment with id=999 exists`,
    );
    await expect(failure).rejects.toMatchObject({
      status: 404,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      unreachable: false,
    });

    const run = await newRun(client);
    server.intercept = (request) =>
      request.path === '/api/2.0/mlflow/runs/log-batch'
        ? { status: 500, body: mlflowError('INTERNAL_ERROR', 'database is locked') }
        : undefined;
    await expect(
      client.logBatch(run.run_id, { metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] }),
    ).rejects.toThrow(
      `MLflow POST ${api('runs/log-batch')}: HTTP 500 INTERNAL_ERROR: database is locked`,
    );

    // A proxy in front of the server answers in HTML: its text is the message.
    server.intercept = () => ({ status: 502, body: '<html>Bad Gateway</html>' });
    await expect(client.getExperimentByName('x')).rejects.toThrow(
      `MLflow GET ${api('experiments/get-by-name')}: HTTP 502 HTTP_ERROR: <html>Bad Gateway</html>`,
    );
  });

  it('no server on the port: ECONNREFUSED with the address, and unreachable', async () => {
    const closed = await closedLoopbackUri();
    const client = new MlflowClient({ trackingUri: closed.uri });
    const failure = client.ensureExperiment('x');
    await expect(failure).rejects.toThrow(
      `MLflow GET ${closed.uri}/api/2.0/mlflow/experiments/get-by-name: ECONNREFUSED: ` +
        `connect ECONNREFUSED 127.0.0.1:${closed.port}; ` +
        'nothing listens there: is the MLflow server running, on that host and port?',
    );
    await expect(failure).rejects.toMatchObject({ status: null, unreachable: true });
    await expect(failure).rejects.toBeInstanceOf(MlflowError);
  });

  it('a host name that does not resolve: the resolver error code', async () => {
    const client = new MlflowClient({ trackingUri: 'http://mlflow.invalid:5000' });
    const error = await client.ensureExperiment('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    // ENOTFOUND where DNS answers, EAI_AGAIN on a machine without a resolver.
    expect((error as MlflowError).message).toMatch(
      /^MLflow GET http:\/\/mlflow\.invalid:5000\/api\/2\.0\/mlflow\/experiments\/get-by-name: (ENOTFOUND|EAI_AGAIN): getaddrinfo (ENOTFOUND|EAI_AGAIN) mlflow\.invalid; /,
    );
  });

  it('a server that accepts and never answers: TIMEOUT after the configured time', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const client = new MlflowClient({ trackingUri: uri, timeoutMs: 200 });
      await expect(client.getRun('abc')).rejects.toThrow(
        `MLflow GET ${uri}/api/2.0/mlflow/runs/get: TIMEOUT: no answer within 0.2 s; ` +
          'is the server overloaded or the URI wrong?',
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('runs/create without run_id: refused by field, with the id the run came back under', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    server.rewrite = (request, answer) => {
      if (request.path !== '/api/2.0/mlflow/runs/create') return answer;
      const { run_id: _dropped, ...info } = (answer as { run: { info: { run_id: string } } }).run
        .info;
      return { run: { info } };
    };
    const error = await newRun(client).catch((e: unknown) => e);
    const [created] = [...server.runs.values()];
    expect(error).toBeInstanceOf(MlflowIncompleteRunError);
    expect(error).toMatchObject({ runId: created!.info.run_id, status: 200 });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^MLflow POST ${api('runs/create').replace(/[.?/]/g, '\\$&')}: HTTP 200 INVALID_RESPONSE: ` +
          'the answer lacks run\\.info\\.run_id: \\{"run":\\{"info":\\{"run_uuid":',
      ),
    );
  });

  it('runs/create without run.info: refused by field; no id came back', async () => {
    const client = new MlflowClient({ trackingUri: server.uri });
    server.rewrite = (request, answer) =>
      request.path === '/api/2.0/mlflow/runs/create' ? { run: { data: {} } } : answer;
    const error = await newRun(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).not.toBeInstanceOf(MlflowIncompleteRunError);
    expect((error as Error).message).toBe(
      `MLflow POST ${api('runs/create')}: HTTP 200 INVALID_RESPONSE: the answer lacks run.info: {"run":{"data":{}}}`,
    );
  });
});

describe('MLflow tracking URI', () => {
  it('is refused with its value, where it came from, and the form expected', () => {
    expect(() => new MlflowClient({ trackingUri: 'file:///tmp/mlruns' })).toThrow(
      "MLflow tracking URI 'file:///tmp/mlruns' has the scheme 'file:'; expected http(s)://host:port, e.g. http://127.0.0.1:5000",
    );
    expect(
      () => new MlflowClient({ trackingUri: '127.0.0.1:5000', uriSource: '--mlflow' }),
    ).toThrow(
      "MLflow tracking URI '127.0.0.1:5000' (from --mlflow) is not a URL; expected http(s)://host:port, e.g. http://127.0.0.1:5000",
    );
    expect(new MlflowClient({ trackingUri: 'https://mlflow.example.org/prefix' }).trackingUri).toBe(
      'https://mlflow.example.org/prefix',
    );
  });
});
