import type { RunConfig, RunEvent, RunRecord } from '@prunefuse/results';

/** Where a run was computed: the record's environment (backend, device, versions, commit). */
export type RunEnvironment = RunRecord['environment'];

/**
 * An experiment tracker (MLflow) following the runs of a sweep. Tracking is a mirror of
 * the results store, never a condition for it: implementations report their own failures
 * and never throw into the sweep.
 */
/** What a tracker needs of a run of the sweep: its id and resolved config. */
export interface TrackedRunIdentity {
  id: string;
  config: RunConfig;
}

export interface Tracker {
  startRun(run: TrackedRunIdentity, environment: RunEnvironment): TrackedRun;
}

export interface TrackedRun {
  event(event: RunEvent): void;
  /** The run finished; `recordFile` is its record in the store. */
  finish(record: RunRecord, recordFile: string): Promise<void>;
  fail(error: unknown): Promise<void>;
}
