import type { RunEvent } from '@prunefuse/results';
import type { ExpandedRun } from '../config/expand.js';
import { PlainProgress } from './plain.js';
import type { RunOutcome } from './sweep-state.js';
import { TtyProgress } from './tty.js';

/** What a sweep tells its progress display; all output goes to the display's stream (stderr). */
export interface SweepProgress {
  /** `runs`: those the sweep will try; `finished`: how many of its runs were already done. */
  sweepStarted(runs: readonly ExpandedRun[], finished: number): void;
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

export interface ProgressOptions {
  /** Plain output: at most one status line per this many ms (default 30 s). */
  intervalMs?: number;
  now?: () => number;
}

/** Live bars with ETAs on a terminal; plain periodic lines otherwise (CI logs, files). */
export function createProgress(
  stream: ProgressStream,
  options: ProgressOptions = {},
): SweepProgress {
  const now = options.now ?? Date.now;
  return stream.isTTY === true
    ? new TtyProgress(stream, now)
    : new PlainProgress(stream, { intervalMs: options.intervalMs ?? 30_000, now });
}
