import { PlainProgress } from './plain.js';
import type { ProgressStream, SweepProgress } from './sweep-progress.js';
import { TtyProgress } from './tty.js';

export type { ProgressStream, SweepProgress } from './sweep-progress.js';

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
