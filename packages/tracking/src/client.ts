/**
 * A small typed client for MLflow's tracking REST API (2.0) and its artifact proxy, as
 * the REST reference documents them:
 *   GET  /api/2.0/mlflow/experiments/get-by-name   POST /api/2.0/mlflow/experiments/create
 *   POST /api/2.0/mlflow/runs/create               POST /api/2.0/mlflow/runs/log-batch
 *   POST /api/2.0/mlflow/runs/update
 *   PUT  /api/2.0/mlflow-artifacts/artifacts/<path>   (server started with --serve-artifacts,
 *        the default since MLflow 2.0)
 * Errors come back as JSON `{"error_code": "...", "message": "..."}` with a 4xx/5xx status;
 * they become MlflowError. A server that cannot be reached gives the fetch error.
 */

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

export class MlflowError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly errorCode: string,
    detail: string,
  ) {
    super(`MLflow ${endpoint}: ${status} ${errorCode}: ${detail}`);
    this.name = 'MlflowError';
  }
}

export interface MlflowClientOptions {
  /** The tracking server, e.g. http://127.0.0.1:5000 (MLFLOW_TRACKING_URI). */
  trackingUri: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Sent with every request, e.g. an Authorization header. */
  headers?: Record<string, string>;
}

export class MlflowClient {
  readonly trackingUri: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri;
    this.base = parseTrackingUri(options.trackingUri);
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

  async createRun(request: {
    experimentId: string;
    runName: string;
    startTime: number;
    tags: MlflowTag[];
  }): Promise<MlflowRunInfo> {
    const response = await this.call<{ run: { info: MlflowRunInfo } }>(
      'POST',
      'mlflow/runs/create',
      {
        experiment_id: request.experimentId,
        run_name: request.runName,
        start_time: request.startTime,
        tags: request.tags,
      },
    );
    return response.run.info;
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
    await this.send('PUT', url, `mlflow-artifacts PUT ${artifactPath}`, content, contentType);
  }

  private artifactUrl(artifactUri: string, artifactPath: string): URL {
    const uri = new URL(artifactUri);
    if (uri.protocol !== 'mlflow-artifacts:') {
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
    const url = new URL(`api/2.0/${endpoint}`, this.base);
    const text = await this.send(
      method,
      url,
      endpoint.split('?')[0]!,
      body === undefined ? undefined : JSON.stringify(body),
      'application/json',
    );
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  private async send(
    method: string,
    url: URL,
    endpoint: string,
    body: string | Uint8Array | undefined,
    contentType: string,
  ): Promise<string> {
    const response = await fetch(url, {
      method,
      headers: { ...this.headers, ...(body === undefined ? {} : { 'Content-Type': contentType }) },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (response.ok) return text;
    let errorCode = 'HTTP_ERROR';
    let detail = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code ?? errorCode;
      detail = parsed.message ?? detail;
    } catch {
      // Not MLflow's JSON error (a proxy in between, say): keep the start of the body.
    }
    throw new MlflowError(endpoint, response.status, errorCode, detail);
  }
}

function parseTrackingUri(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(
      `MLflow tracking URI '${uri}' is not a URL; expected e.g. http://127.0.0.1:5000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`MLflow tracking URI '${uri}': expected an http:// or https:// server`);
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
