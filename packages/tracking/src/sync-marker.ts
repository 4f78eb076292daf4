import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ResultsStore, writeFileAtomic } from '@prunefuse/results';

/** What this store knows about run `id` in one MLflow server. */
export interface SyncMarker {
  trackingUri: string;
  experimentId: string;
  mlflowRunId: string;
  /** true once params, metrics, artifacts and the FINISHED status are all on the server. */
  complete: boolean;
  /**
   * The finishedAt of the record whose execution the MLflow run mirrors; absent while a
   * live run trains (or was killed). A cut-short upload of that same record is continued
   * by `mlflow sync`; any other earlier run is closed FAILED and replaced.
   */
  finishedAt?: string;
  at: string;
}

/**
 * The store's record of what is in MLflow, one small file per run under
 * `mlflow/<hash of the tracking URI>/<id>.json`, written atomically: one file per run so
 * that two sweeps never rewrite each other's markers, one folder per server so that
 * syncing to a second server uploads everything again.
 */
export class SyncMarkers {
  readonly dir: string;

  constructor(
    store: ResultsStore,
    readonly trackingUri: string,
  ) {
    const server = createHash('sha256').update(trackingUri).digest('hex').slice(0, 12);
    this.dir = path.join(store.root, 'mlflow', server);
  }

  get(id: string): SyncMarker | null {
    const file = this.file(id);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as SyncMarker;
    } catch (error) {
      throw new Error(`${file}: not a readable MLflow sync marker (${(error as Error).message})`);
    }
  }

  set(id: string, marker: Omit<SyncMarker, 'trackingUri' | 'at'>): void {
    const full: SyncMarker = {
      trackingUri: this.trackingUri,
      ...marker,
      at: new Date().toISOString(),
    };
    writeFileAtomic(this.file(id), `${JSON.stringify(full)}\n`);
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}
