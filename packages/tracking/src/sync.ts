import type { ResultsStore, RunRecord } from '@prunefuse/results';
import { type MlflowClient, MlflowError } from './client.js';
import { MetricSteps, recordEvents } from './metrics.js';
import { closeRun, openRun } from './run-upload.js';
import { SyncMarkers } from './sync-marker.js';

export interface SyncSummary {
  trackingUri: string;
  uploaded: string[];
  alreadySynced: string[];
  failed: Array<{ id: string; message: string }>;
  /** Runs not attempted because the server could not be reached. */
  notAttempted: string[];
}

/**
 * Uploads every finished run of the store that is not completely in the MLflow server
 * yet (by the store's sync markers for that server). A run whose earlier upload was cut
 * short has its partial MLflow run closed as FAILED and is uploaded whole as a new run.
 * An error response for one run is recorded and the others go on; an unreachable server
 * stops the sync.
 */
export async function syncStore(
  store: ResultsStore,
  client: MlflowClient,
  onUploaded: (id: string) => void = () => {},
): Promise<SyncSummary> {
  const markers = new SyncMarkers(store, client.trackingUri);
  const summary: SyncSummary = {
    trackingUri: client.trackingUri,
    uploaded: [],
    alreadySynced: [],
    failed: [],
    notAttempted: [],
  };
  const experiments = new Map<string, string>();
  const ids = store.ids();
  for (const [index, id] of ids.entries()) {
    const marker = markers.get(id);
    if (marker?.complete) {
      summary.alreadySynced.push(id);
      continue;
    }
    let record: RunRecord;
    try {
      record = store.read(id);
    } catch (error) {
      summary.failed.push({ id, message: (error as Error).message });
      continue;
    }
    try {
      if (marker) await closeAbandoned(client, marker.mlflowRunId, Date.parse(record.finishedAt));
      const name = record.config.experiment;
      const experimentId = experiments.get(name) ?? (await client.ensureExperiment(name));
      experiments.set(name, experimentId);
      const info = await openRun(client, markers, {
        id,
        config: record.config,
        experimentId,
        environment: record.environment,
        startTime: Date.parse(record.startedAt),
      });
      const steps = new MetricSteps();
      const metrics = recordEvents(record).flatMap(({ event, timestamp }) =>
        steps.metrics(event, timestamp),
      );
      await client.logBatch(info.run_id, { metrics });
      await closeRun(client, markers, info, record, store.recordPath(id));
      summary.uploaded.push(id);
      onUploaded(id);
    } catch (error) {
      summary.failed.push({ id, message: (error as Error).message });
      if (!(error instanceof MlflowError)) {
        summary.notAttempted.push(...ids.slice(index + 1));
        break;
      }
    }
  }
  return summary;
}

/** Marks the partial run of a cut-short upload FAILED; it may have been deleted meanwhile. */
async function closeAbandoned(
  client: MlflowClient,
  mlflowRunId: string,
  endTime: number,
): Promise<void> {
  try {
    await client.updateRun(mlflowRunId, 'FAILED', endTime);
  } catch (error) {
    if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST'))
      throw error;
  }
}
