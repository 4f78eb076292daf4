import { readFileSync } from 'node:fs';
import type { RunConfig, RunRecord } from '@prunefuse/results';
import {
  type MlflowClient,
  MlflowError,
  MlflowIncompleteRunError,
  type MlflowMetric,
  type MlflowParam,
  type MlflowRunInfo,
} from './client.js';
import { finalMetrics, runName, runParams, runTags } from './metrics.js';
import type { SyncMarkers } from './sync-marker.js';
import type { RunEnvironment } from './tracker-interface.js';

/**
 * One store run's MLflow run while it is uploaded, shared by live tracking and `mlflow
 * sync`. The store's sync marker names the MLflow run from the moment it exists, so that
 * an upload cut short is never lost track of: `abandon` marks it FAILED when the server
 * still answers, and the next sync continues it (the same record) or closes it FAILED (an
 * earlier attempt) and uploads anew. A continued upload sends only what the server lacks:
 * the params it has not got and, per metric key, the steps after its latest one (steps
 * grow along each key's history, and each log-batch request is applied whole).
 */
export class RunUpload {
  private abandoned = false;

  private constructor(
    private readonly client: MlflowClient,
    private readonly markers: SyncMarkers,
    readonly storeRunId: string,
    readonly info: MlflowRunInfo,
    private readonly present: { params: Set<string>; latestSteps: Map<string, number> },
  ) {}

  /**
   * Creates the MLflow run, with its tags and params. An earlier run of the same store run
   * left RUNNING (a killed attempt) is closed FAILED first.
   */
  static async create(
    client: MlflowClient,
    markers: SyncMarkers,
    run: {
      id: string;
      config: RunConfig;
      experimentId: string;
      environment: RunEnvironment;
      startTime: number;
      /** The record it mirrors (sync), unknown while a live run trains. */
      finishedAt?: string;
    },
  ): Promise<RunUpload> {
    const earlier = markers.get(run.id);
    if (earlier && !earlier.complete) await closeIfRunning(client, earlier.mlflowRunId);
    const mark = (mlflowRunId: string) =>
      markers.set(run.id, {
        experimentId: run.experimentId,
        mlflowRunId,
        complete: false,
        ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
      });
    let info: MlflowRunInfo;
    try {
      info = await client.createRun({
        experimentId: run.experimentId,
        runName: runName(run.id, run.config),
        startTime: run.startTime,
        tags: runTags(run.id, run.config, run.environment),
      });
    } catch (error) {
      if (error instanceof MlflowIncompleteRunError) {
        // The run exists on the server: keep track of it and close it.
        mark(error.runId);
        await markFailed(client, error.runId);
      }
      throw error;
    }
    mark(info.run_id);
    const upload = new RunUpload(client, markers, run.id, info, {
      params: new Set(),
      latestSteps: new Map(),
    });
    await upload.guard(() => upload.logParams(runParams(run.config)));
    return upload;
  }

  /**
   * The cut-short upload of this very record (by its sync marker), continued; null when
   * there is none, it is complete, the server no longer has it, or it mirrors another
   * execution of the run.
   */
  static async resume(
    client: MlflowClient,
    markers: SyncMarkers,
    record: RunRecord,
  ): Promise<RunUpload | null> {
    const marker = markers.get(record.id);
    if (!marker || marker.complete || marker.finishedAt !== record.finishedAt) return null;
    const state = await client.getRun(marker.mlflowRunId);
    if (!state || state.deleted) return null;
    const upload = new RunUpload(client, markers, record.id, state.info, {
      params: state.paramKeys,
      latestSteps: state.latestSteps,
    });
    await upload.guard(() => upload.logParams(runParams(record.config)));
    return upload;
  }

  /** Metrics in order; those the server has already (continued upload) are skipped. */
  async logMetrics(metrics: readonly MlflowMetric[]): Promise<void> {
    const missing = metrics.filter(
      (m) => m.step > (this.present.latestSteps.get(m.key) ?? Number.NEGATIVE_INFINITY),
    );
    if (missing.length === 0) return;
    await this.guard(() => this.client.logBatch(this.info.run_id, { metrics: missing }));
  }

  /** Final metrics, the record and its config as artifacts, status FINISHED, marker complete. */
  async close(record: RunRecord, recordFile: string): Promise<void> {
    const finishedAt = Date.parse(record.finishedAt);
    this.remember(record.finishedAt);
    await this.logMetrics(finalMetrics(record, finishedAt));
    await this.guard(async () => {
      const { client, info } = this;
      await client.uploadArtifact(
        info.artifact_uri,
        'run-record.json',
        readFileSync(recordFile),
        'application/json',
      );
      await client.uploadArtifact(
        info.artifact_uri,
        'config.json',
        `${JSON.stringify(record.config, null, 2)}\n`,
        'application/json',
      );
      await client.updateRun(info.run_id, 'FINISHED', finishedAt);
    });
    this.markers.set(record.id, {
      experimentId: this.info.experiment_id,
      mlflowRunId: this.info.run_id,
      complete: true,
      finishedAt: record.finishedAt,
    });
  }

  /** The run failed (in the sweep, not in MLflow): FAILED, and the marker says so. */
  async fail(endTime: number): Promise<void> {
    await this.guard(() => this.client.updateRun(this.info.run_id, 'FAILED', endTime));
  }

  /**
   * Notes in the marker that the MLflow run mirrors the record finished at `finishedAt`,
   * so that `mlflow sync` continues it rather than replacing it.
   */
  remember(finishedAt: string): void {
    this.markers.set(this.storeRunId, {
      experimentId: this.info.experiment_id,
      mlflowRunId: this.info.run_id,
      complete: false,
      finishedAt,
    });
  }

  /**
   * The upload cannot go on: marks the run FAILED unless the server is unreachable (then
   * the next sync finds it by the marker). Once; never throws.
   */
  async abandon(cause: unknown): Promise<void> {
    if (this.abandoned) return;
    this.abandoned = true;
    if (cause instanceof MlflowError && cause.unreachable) return;
    await markFailed(this.client, this.info.run_id);
  }

  /** Runs one step of the upload; if it fails, abandons the run and rethrows. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.abandon(error);
      throw error;
    }
  }

  private async logParams(params: readonly MlflowParam[]): Promise<void> {
    const missing = params.filter((p) => !this.present.params.has(p.key));
    if (missing.length > 0) await this.client.logBatch(this.info.run_id, { params: missing });
  }
}

/** Best effort: the error that stopped the upload is the one worth reporting. */
async function markFailed(client: MlflowClient, mlflowRunId: string): Promise<void> {
  try {
    await client.updateRun(mlflowRunId, 'FAILED', Date.now());
  } catch {
    // The marker still names the run: the next sync closes or continues it.
  }
}

/** An earlier attempt's MLflow run, closed FAILED if it is still RUNNING; it may be gone. */
async function closeIfRunning(client: MlflowClient, mlflowRunId: string): Promise<void> {
  const earlier = await client.getRun(mlflowRunId);
  if (earlier?.info.status === 'RUNNING') await client.updateRun(mlflowRunId, 'FAILED', Date.now());
}
