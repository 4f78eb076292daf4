import type { ResultsStore, RunRecord } from '@prunefuse/results';
import { type MlflowClient, MlflowError } from './client.js';
import { MetricSteps, recordEvents } from './metrics.js';
import { RunUpload } from './run-upload.js';
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
 * Uploads every finished run of the store whose record is not completely in the MLflow
 * server yet (by the store's sync markers for that server). Idempotent: an upload cut short
 * (here or in live tracking) is continued in the same MLflow run when it mirrors the same
 * record, so repeating a failed sync never adds a second MLflow run for a store run; an
 * earlier attempt's run of a recomputed record is closed FAILED and replaced. An error
 * answer for one run is recorded and the others go on; an unreachable server stops the
 * sync.
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
    let record: RunRecord;
    try {
      record = store.read(id);
    } catch (error) {
      summary.failed.push({ id, message: (error as Error).message });
      continue;
    }
    // A record computed again (--rerun-stale, a damaged one) is a new upload; markers
    // written before they named their record count for whatever record is there.
    const marker = markers.get(id);
    if (marker?.complete && (marker.finishedAt ?? record.finishedAt) === record.finishedAt) {
      summary.alreadySynced.push(id);
      continue;
    }
    try {
      const upload =
        (await RunUpload.resume(client, markers, record)) ??
        (await RunUpload.create(client, markers, {
          id,
          config: record.config,
          experimentId: await experimentOf(record.config.experiment),
          environment: record.environment,
          startTime: Date.parse(record.startedAt),
          finishedAt: record.finishedAt,
        }));
      const steps = new MetricSteps();
      await upload.logMetrics(
        recordEvents(record).flatMap(({ event, timestamp }) => steps.metrics(event, timestamp)),
      );
      await upload.close(record, store.recordPath(id));
      summary.uploaded.push(id);
      onUploaded(id);
    } catch (error) {
      summary.failed.push({ id, message: (error as Error).message });
      if (!(error instanceof MlflowError) || error.unreachable) {
        summary.notAttempted.push(...ids.slice(index + 1));
        break;
      }
    }
  }
  return summary;

  async function experimentOf(name: string): Promise<string> {
    const known = experiments.get(name);
    if (known) return known;
    const id = await client.ensureExperiment(name);
    experiments.set(name, id);
    return id;
  }
}

/** The command that uploads what a store lacks in the server at `trackingUri`. */
export function syncCommand(storeRoot: string, trackingUri: string): string {
  return `pnpm prunefuse mlflow sync ${storeRoot} --mlflow ${trackingUri}`;
}
