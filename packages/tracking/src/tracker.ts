import type { ResultsStore, RunEvent, RunRecord } from '@prunefuse/results';
import type { MlflowClient, MlflowMetric } from './client.js';
import { MetricSteps } from './metrics.js';
import { RunUpload } from './run-upload.js';
import { syncCommand } from './sync.js';
import { SyncMarkers } from './sync-marker.js';
import type {
  RunEnvironment,
  TrackedRun,
  TrackedRunIdentity,
  Tracker,
} from './tracker-interface.js';

export interface MlflowTrackerOptions {
  store: ResultsStore;
  /** Where the one failure report goes (the progress display's log). */
  warn: (message: string) => void;
  /** Send buffered epoch metrics at least this often while a run trains (default 15 s). */
  flushMs?: number;
  now?: () => number;
}

/**
 * Live MLflow tracking of a sweep: each run becomes an MLflow run in the experiment named
 * after the config, created when the run starts (params and tags), fed its metrics while
 * it trains, and closed with its final metrics, its record as artifacts and FINISHED (or
 * FAILED). Requests run in the background, in order, never blocking or failing the run.
 * The first failure (server down, an error response) is reported once and ends tracking
 * for the rest of the sweep; the MLflow runs it cut short are marked FAILED while the
 * server still answers, and their sync markers remember them. The runs' results are in the
 * store regardless, and `prunefuse mlflow sync <store>` uploads whatever did not reach the
 * server, continuing those same MLflow runs.
 */
export class MlflowTracker implements Tracker {
  private failure: unknown = null;
  private readonly experiments = new Map<string, Promise<string>>();
  readonly markers: SyncMarkers;
  readonly now: () => number;
  readonly flushMs: number;

  constructor(
    readonly client: MlflowClient,
    private readonly options: MlflowTrackerOptions,
  ) {
    this.markers = new SyncMarkers(options.store, client.trackingUri);
    this.now = options.now ?? Date.now;
    this.flushMs = options.flushMs ?? 15_000;
  }

  /** The error that stopped tracking, or null while it works. */
  get failed(): unknown {
    return this.failure;
  }

  get active(): boolean {
    return this.failure === null;
  }

  startRun(run: TrackedRunIdentity, environment: RunEnvironment): TrackedRun {
    return new LiveRun(this, run, environment);
  }

  experimentId(name: string): Promise<string> {
    let id = this.experiments.get(name);
    if (!id) {
      id = this.client.ensureExperiment(name);
      this.experiments.set(name, id);
    }
    return id;
  }

  report(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = error;
    const root = this.options.store.root;
    this.options.warn(
      `MLflow tracking at ${this.client.trackingUri} failed: ${(error as Error).message ?? String(error)}. ` +
        `Results are still written to ${root}; upload them later with: ${syncCommand(root, this.client.trackingUri)}`,
    );
  }
}

class LiveRun implements TrackedRun {
  private queue: Promise<void> = Promise.resolve();
  private upload: RunUpload | null = null;
  private buffer: MlflowMetric[] = [];
  private readonly steps = new MetricSteps();
  private lastFlush: number;

  constructor(
    private readonly tracker: MlflowTracker,
    private readonly run: TrackedRunIdentity,
    environment: RunEnvironment,
  ) {
    this.lastFlush = tracker.now();
    this.enqueue(async () => {
      const experimentId = await tracker.experimentId(run.config.experiment);
      this.upload = await RunUpload.create(tracker.client, tracker.markers, {
        id: run.id,
        config: run.config,
        experimentId,
        environment,
        startTime: tracker.now(),
      });
    });
  }

  event(event: RunEvent): void {
    if (!this.tracker.active) return;
    const now = this.tracker.now();
    this.buffer.push(...this.steps.metrics(event, now));
    // Rounds and targets are rare and what people watch: send them at once.
    if (event.type !== 'epoch' || now - this.lastFlush >= this.tracker.flushMs) {
      this.lastFlush = now;
      this.enqueue(() => this.flush());
    }
  }

  async finish(record: RunRecord, recordFile: string): Promise<void> {
    this.enqueue(async () => {
      await this.flush();
      await this.opened().close(record, recordFile);
    });
    await this.queue;
    if (this.tracker.active || !this.upload) return;
    // Tracking stopped (here or in another run) before this run was closed: the MLflow
    // run mirrors this record as far as it got, and `mlflow sync` continues it.
    this.upload.remember(record.finishedAt);
    await this.upload.abandon(this.tracker.failed);
  }

  async fail(_error: unknown): Promise<void> {
    this.enqueue(async () => {
      await this.flush();
      await this.opened().fail(this.tracker.now());
    });
    await this.queue;
    if (!this.tracker.active) await this.upload?.abandon(this.tracker.failed);
  }

  private async flush(): Promise<void> {
    const metrics = this.buffer.splice(0);
    await this.opened().logMetrics(metrics);
  }

  private opened(): RunUpload {
    if (!this.upload) throw new Error(`MLflow run for ${this.run.id} was not created`);
    return this.upload;
  }

  /** Runs `task` after the earlier ones, unless tracking has failed meanwhile. */
  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (!this.tracker.active) return;
      try {
        await task();
      } catch (error) {
        this.tracker.report(error);
      }
    });
  }
}
