import type { RunEvent, RunRecord } from '@prunefuse/results';
import type { ExpandedRun } from './config/expand.js';

/** Where a run was computed: the record's environment (backend, device, versions, commit). */
export type RunEnvironment = RunRecord['environment'];

/**
 * An experiment tracker (MLflow) following the runs of a sweep. Tracking is a mirror of
 * the results store, never a condition for it: implementations report their own failures
 * and never throw into the sweep.
 */
export interface Tracker {
  startRun(run: ExpandedRun, environment: RunEnvironment): TrackedRun;
}

export interface TrackedRun {
  event(event: RunEvent): void;
  /** The run finished; `recordFile` is its record in the store. */
  finish(record: RunRecord, recordFile: string): Promise<void>;
  fail(error: unknown): Promise<void>;
}
