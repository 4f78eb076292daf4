/**
 * A small typed client for MLflow's tracking REST API (2.0) and its artifact proxy, as
 * the REST reference documents them:
 *   GET  /api/2.0/mlflow/experiments/get-by-name   POST /api/2.0/mlflow/experiments/create
 *   POST /api/2.0/mlflow/runs/create               POST /api/2.0/mlflow/runs/log-batch
 *   POST /api/2.0/mlflow/runs/update               GET  /api/2.0/mlflow/runs/get
 *   PUT  /api/2.0/mlflow-artifacts/artifacts/<path>   (server started with --serve-artifacts,
 *        the default since MLflow 2.0)
 * Errors come back as JSON `{"error_code": "...", "message": "..."}` with a 4xx/5xx status;
 * they become MlflowError, and so does a request that got no answer (with the network error
 * code) or an answer without the fields the client needs (INVALID_RESPONSE).
 */

import { z } from 'zod';

export interface MlflowMetric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface MlflowTag {
  key: string;
  value: string;
}

export type MlflowParam = MlflowTag;

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  status: string;
  artifact_uri: string;
}

export type MlflowRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

/** log-batch's documented limits per request. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

/**
 * Longest param value sent. MLflow 2.x accepts 6000 characters, releases before it 500;
 * values are cut to the older limit (marked with '...') so that any server accepts them.
 * The params are the flattened run config, whose values are short; the whole config is
 * also uploaded as an artifact.
 */
export const PARAM_VALUE_LIMIT = 500;

/**
 * A request to the MLflow server that did not do what was asked. The message names the
 * request (method and URL), then the HTTP status and MLflow's error code and message, or
 * the network error code (ECONNREFUSED, ENOTFOUND, TIMEOUT, ...) and the system's message
 * when no answer came.
 */
export class MlflowError extends Error {
  constructor(
    /** e.g. `POST http://127.0.0.1:5000/api/2.0/mlflow/runs/create` */
    readonly endpoint: string,
    /** The HTTP status; null when the server was not reached. */
    readonly status: number | null,
    /** MLflow's error_code, HTTP_ERROR, INVALID_RESPONSE, or the network error code. */
    readonly errorCode: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `MLflow ${endpoint}: ${status === null ? errorCode : `HTTP ${status} ${errorCode}`}: ${detail}`,
      options,
    );
    this.name = 'MlflowError';
  }

  /** No answer came (network error, timeout): further requests to the server fail alike. */
  get unreachable(): boolean {
    return this.status === null;
  }
}

/**
 * runs/create created a run but its answer lacks a field the upload needs: the run's id
 * came back, so the run can be closed or reused rather than left orphaned.
 */
export class MlflowIncompleteRunError extends MlflowError {
  constructor(
    cause: MlflowError,
    readonly runId: string,
  ) {
    super(cause.endpoint, cause.status, cause.errorCode, cause.detail);
    this.name = 'MlflowIncompleteRunError';
  }
}

export interface MlflowClientOptions {
  /** The tracking server, e.g. http://127.0.0.1:5000 (MLFLOW_TRACKING_URI). */
  trackingUri: string;
  /** Where the URI came from, named when it is refused, e.g. `--mlflow` or `$MLFLOW_TRACKING_URI`. */
  uriSource?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Sent with every request, e.g. an Authorization header. */
  headers?: Record<string, string>;
}

const runInfoSchema = z.object({
  run_id: z.string().min(1),
  experiment_id: z.string().min(1),
  status: z.string(),
  artifact_uri: z.string().min(1),
});

const createRunAnswer = z.object({ run: z.object({ info: runInfoSchema }) });

const getRunAnswer = z.object({
  run: z.object({
    info: runInfoSchema.extend({ lifecycle_stage: z.string().optional() }),
    data: z
      .object({
        metrics: z.array(z.object({ key: z.string(), step: z.number() })).optional(),
        params: z.array(z.object({ key: z.string() })).optional(),
      })
      .optional(),
  }),
});

/** A run as runs/get returns it: its info, its params' keys and the latest step of each metric. */
export interface MlflowRunState {
  info: MlflowRunInfo;
  deleted: boolean;
  paramKeys: Set<string>;
  latestSteps: Map<string, number>;
}

export class MlflowClient {
  readonly trackingUri: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri;
    this.base = parseTrackingUri(options.trackingUri, options.uriSource);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = options.headers ?? {};
  }

  async getExperimentByName(name: string): Promise<{ experiment_id: string; name: string } | null> {
    try {
      const response = await this.call<{ experiment: { experiment_id: string; name: string } }>(
        'GET',
        `mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
      );
      return response.experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        return null;
      throw error;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const response = await this.call<{ experiment_id: string }>(
      'POST',
      'mlflow/experiments/create',
      { name },
    );
    return response.experiment_id;
  }

  /** The id of experiment `name`, created if needed; safe when another client creates it at the same time. */
  async ensureExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experiment_id;
    try {
      return await this.createExperiment(name);
    } catch (error) {
      if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_ALREADY_EXISTS'))
        throw error;
      const created = await this.getExperimentByName(name);
      if (!created) throw error;
      return created.experiment_id;
    }
  }

  /**
   * Creates a run. An answer without the run's info is refused by field: with
   * MlflowIncompleteRunError when the run's id came back (the run exists on the server).
   */
  async createRun(request: {
    experimentId: string;
    runName: string;
    startTime: number;
    tags: MlflowTag[];
  }): Promise<MlflowRunInfo> {
    const answer = await this.call<unknown>('POST', 'mlflow/runs/create', {
      experiment_id: request.experimentId,
      run_name: request.runName,
      start_time: request.startTime,
      tags: request.tags,
    });
    const parsed = createRunAnswer.safeParse(answer);
    if (parsed.success) return parsed.data.run.info;
    const error = this.invalidAnswer('POST', 'mlflow/runs/create', parsed.error, answer);
    const runId = createdRunId(answer);
    throw runId ? new MlflowIncompleteRunError(error, runId) : error;
  }

  /** The run `runId`, or null if the server does not have it. */
  async getRun(runId: string): Promise<MlflowRunState | null> {
    const endpoint = `mlflow/runs/get?run_id=${encodeURIComponent(runId)}`;
    let answer: unknown;
    try {
      answer = await this.call<unknown>('GET', endpoint);
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        return null;
      throw error;
    }
    const parsed = getRunAnswer.safeParse(answer);
    if (!parsed.success) throw this.invalidAnswer('GET', endpoint, parsed.error, answer);
    const { info, data } = parsed.data.run;
    const latestSteps = new Map<string, number>();
    for (const metric of data?.metrics ?? [])
      latestSteps.set(metric.key, Math.max(metric.step, latestSteps.get(metric.key) ?? -Infinity));
    return {
      info: {
        run_id: info.run_id,
        experiment_id: info.experiment_id,
        status: info.status,
        artifact_uri: info.artifact_uri,
      },
      deleted: info.lifecycle_stage === 'deleted',
      paramKeys: new Set((data?.params ?? []).map((p) => p.key)),
      latestSteps,
    };
  }

  /**
   * Logs metrics, params and tags, in as many requests as log-batch's limits require:
   * params and tags first (at most 100 of each per request), then metrics (1000).
   */
  async logBatch(
    runId: string,
    batch: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] },
  ): Promise<void> {
    const params = (batch.params ?? []).map((p) => ({ key: p.key, value: truncateParam(p.value) }));
    const tags = batch.tags ?? [];
    for (let i = 0; i < Math.max(params.length, tags.length); i += LOG_BATCH_LIMITS.params) {
      await this.call('POST', 'mlflow/runs/log-batch', {
        run_id: runId,
        params: params.slice(i, i + LOG_BATCH_LIMITS.params),
        tags: tags.slice(i, i + LOG_BATCH_LIMITS.tags),
        metrics: [],
      });
    }
    const metrics = batch.metrics ?? [];
    for (let i = 0; i < metrics.length; i += LOG_BATCH_LIMITS.metrics) {
      await this.call('POST', 'mlflow/runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(i, i + LOG_BATCH_LIMITS.metrics),
        params: [],
        tags: [],
      });
    }
  }

  async updateRun(runId: string, status: MlflowRunStatus, endTime: number): Promise<void> {
    await this.call('POST', 'mlflow/runs/update', { run_id: runId, status, end_time: endTime });
  }

  /**
   * Uploads one file into a run's artifacts through the server's artifact proxy. The run's
   * artifact_uri (`mlflow-artifacts:/<experiment>/<run>/artifacts` on a server that serves
   * artifacts) resolves as MLflow's own MlflowArtifactsRepository does: onto
   * `<tracking uri>/api/2.0/mlflow-artifacts/artifacts/<path of the uri>/<artifact path>`.
   */
  async uploadArtifact(
    artifactUri: string,
    artifactPath: string,
    content: string | Uint8Array,
    contentType = 'application/octet-stream',
  ): Promise<void> {
    const url = this.artifactUrl(artifactUri, artifactPath);
    await this.send({ method: 'PUT', url, body: content, contentType });
  }

  private artifactUrl(artifactUri: string, artifactPath: string): URL {
    const uri = URL.canParse(artifactUri) ? new URL(artifactUri) : null;
    if (uri?.protocol !== 'mlflow-artifacts:') {
      throw new Error(
        `MLflow run artifact_uri '${artifactUri}' is not served by the tracking server; ` +
          'start the server with --serve-artifacts (the default) and an mlflow-artifacts:/ artifact root',
      );
    }
    const host = uri.host ? `${this.base.protocol}//${uri.host}` : this.base.origin;
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const segments = [uri.pathname, artifactPath]
      .join('/')
      .split('/')
      .filter((s) => s !== '')
      .map(encodeURIComponent);
    return new URL(`${host}${prefix}/api/2.0/mlflow-artifacts/artifacts/${segments.join('/')}`);
  }

  private async call<T>(method: 'GET' | 'POST', endpoint: string, body?: unknown): Promise<T> {
    const url = this.apiUrl(endpoint);
    const text = await this.send({
      method,
      url,
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: 'application/json',
    });
    if (text === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlflowError(
        describeRequest(method, url),
        200,
        'INVALID_RESPONSE',
        `the answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  private apiUrl(endpoint: string): URL {
    return new URL(`api/2.0/${endpoint}`, this.base);
  }

  private invalidAnswer(
    method: string,
    endpoint: string,
    error: z.ZodError,
    answer: unknown,
  ): MlflowError {
    const fields = error.issues.map((issue) => issue.path.join('.') || '(the answer)');
    return new MlflowError(
      describeRequest(method, this.apiUrl(endpoint)),
      200,
      'INVALID_RESPONSE',
      `the answer lacks ${[...new Set(fields)].join(', ')}: ${JSON.stringify(answer).slice(0, 300)}`,
    );
  }

  private async send(request: {
    method: string;
    url: URL;
    body: string | Uint8Array | undefined;
    contentType: string;
  }): Promise<string> {
    const { method, url, body } = request;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...this.headers,
          ...(body === undefined ? {} : { 'Content-Type': request.contentType }),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw networkError(describeRequest(method, url), error, this.timeoutMs);
    }
    if (response.ok) return text;
    let errorCode = 'HTTP_ERROR';
    let detail = text.slice(0, 500) || response.statusText;
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code ?? errorCode;
      detail = parsed.message ?? detail;
    } catch {
      // Not MLflow's JSON error (a proxy in between, say): keep the start of the body.
    }
    throw new MlflowError(describeRequest(method, url), response.status, errorCode, detail);
  }
}

/** `POST http://host:port/api/2.0/mlflow/runs/create`: the URL without its query. */
function describeRequest(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/** What the system said when no answer came, with the error code Node's fetch puts in its cause. */
function networkError(endpoint: string, error: unknown, timeoutMs: number): MlflowError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new MlflowError(
      endpoint,
      null,
      'TIMEOUT',
      `no answer within ${timeoutMs / 1000} s; is the server overloaded or the URI wrong?`,
      { cause: error },
    );
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : 'NETWORK_ERROR';
  const said =
    typeof cause?.message === 'string' && cause.message !== ''
      ? cause.message
      : String((error as Error).message ?? error);
  const hint = NETWORK_HINTS[code];
  return new MlflowError(endpoint, null, code, hint ? `${said}; ${hint}` : said, { cause: error });
}

const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: is the MLflow server running, on that host and port?',
  ENOTFOUND: 'no such host: check the host name of the tracking URI',
  EAI_AGAIN: 'the host name could not be resolved now (DNS): retry, or use an IP address',
  ECONNRESET: 'the server closed the connection',
  EHOSTUNREACH: 'the host cannot be reached from this machine',
  ETIMEDOUT: 'the host did not answer the connection',
};

/** The id of the run runs/create made, when its answer has one even though it lacks other fields. */
function createdRunId(answer: unknown): string | null {
  const info = (answer as { run?: { info?: { run_id?: unknown; run_uuid?: unknown } } } | null)?.run
    ?.info;
  const id = info?.run_id ?? info?.run_uuid;
  return typeof id === 'string' && id !== '' ? id : null;
}

const TRACKING_URI_FORM = 'http(s)://host:port, e.g. http://127.0.0.1:5000';

function parseTrackingUri(uri: string, source: string | undefined): URL {
  const url = URL.canParse(uri) ? new URL(uri) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    const what = url === null ? 'is not a URL' : `has the scheme '${url.protocol}'`;
    const from = source ? ` (from ${source})` : '';
    throw new Error(`MLflow tracking URI '${uri}'${from} ${what}; expected ${TRACKING_URI_FORM}`);
  }
  // Relative endpoint paths resolve under the URI's own path (a server behind a prefix).
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

function truncateParam(value: string): string {
  return value.length <= PARAM_VALUE_LIMIT ? value : `${value.slice(0, PARAM_VALUE_LIMIT - 3)}...`;
}

/** Credentials as MLflow's own clients take them: MLFLOW_TRACKING_TOKEN, or USERNAME and PASSWORD. */
export function authHeadersFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.MLFLOW_TRACKING_TOKEN) return { Authorization: `Bearer ${env.MLFLOW_TRACKING_TOKEN}` };
  if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD) {
    const basic = Buffer.from(
      `${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`,
    ).toString('base64');
    return { Authorization: `Basic ${basic}` };
  }
  return {};
}
