import type { RunEvent, RunPlan } from '@prunefuse/results';
import type { ExpandedRun } from '../config/expand.js';
import type { RunOutcome } from './sweep-state.js';

/** What a sweep tells its progress display; all output goes to the display's stream (stderr). */
export interface SweepProgress {
  /**
   * `runs`: those the sweep will try; `finished`: how many of its runs were already done;
   * `plans`: by run id, what each still trains (less than its plan where it replays a
   * stored selection phase or resumes, see plansLeft; absent: its whole plan).
   */
  sweepStarted(
    runs: readonly ExpandedRun[],
    finished: number,
    plans?: ReadonlyMap<string, RunPlan>,
  ): void;
  runStarted(run: ExpandedRun): void;
  runEvent(id: string, event: RunEvent): void;
  runEnded(id: string, outcome: RunOutcome, detail?: string): void;
  /** A message that must not be lost among the bars (a warning, a run waited for). */
  log(message: string): void;
  sweepEnded(): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}
