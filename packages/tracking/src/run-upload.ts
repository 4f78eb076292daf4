import { readFileSync } from 'node:fs';
import type { RunConfig, RunRecord } from '@prunefuse/results';
import type { RunEnvironment } from './tracker-interface.js';
import type { MlflowClient, MlflowRunInfo } from './client.js';
import { finalMetrics, runName, runParams, runTags } from './metrics.js';
import type { SyncMarkers } from './sync-marker.js';

/**
 * The two ends of a run's life in MLflow, shared by live tracking and `mlflow sync`.
 * A run opened but never closed has an incomplete marker: sync closes it as FAILED and
 * uploads the whole record as a new run.
 */
export async function openRun(
  client: MlflowClient,
  markers: SyncMarkers,
  run: {
    id: string;
    config: RunConfig;
    experimentId: string;
    environment: RunEnvironment;
    startTime: number;
  },
): Promise<MlflowRunInfo> {
  const info = await client.createRun({
    experimentId: run.experimentId,
    runName: runName(run.id, run.config),
    startTime: run.startTime,
    tags: runTags(run.id, run.config, run.environment),
  });
  markers.set(run.id, {
    experimentId: run.experimentId,
    mlflowRunId: info.run_id,
    complete: false,
  });
  await client.logBatch(info.run_id, { params: runParams(run.config) });
  return info;
}

/** Final metrics, the record and its config as artifacts, status FINISHED, marker complete. */
export async function closeRun(
  client: MlflowClient,
  markers: SyncMarkers,
  info: MlflowRunInfo,
  record: RunRecord,
  recordFile: string,
): Promise<void> {
  const finishedAt = Date.parse(record.finishedAt);
  await client.logBatch(info.run_id, { metrics: finalMetrics(record, finishedAt) });
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
  markers.set(record.id, {
    experimentId: info.experiment_id,
    mlflowRunId: info.run_id,
    complete: true,
  });
}
