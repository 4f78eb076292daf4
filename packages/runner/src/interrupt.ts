import { writeSync } from 'node:fs';
import type { ResultsStore } from '@prunefuse/results';
import type { ExpandedRun } from './config/expand.js';

export interface InterruptedSweep {
  /** The command line that resumes the sweep. */
  resume: string;
  store: ResultsStore;
  runs: readonly ExpandedRun[];
}

/**
 * What Ctrl-C leaves: the finished runs are kept in the store, the run in progress keeps
 * what it finished (its checkpoint's targets, its selection phase so far and its training
 * up to the last finished epoch, from which the next sweep resumes it), and the command
 * that resumes.
 */
export function interruptMessage({ resume, store, runs }: InterruptedSweep): string {
  const finished = runs.filter((run) => store.has(run.id)).length;
  return (
    `interrupted: ${finished} of ${runs.length} runs finished and are kept in ${store.root}; ` +
    'the run in progress keeps its finished targets, selection rounds and training epochs and resumes from them. ' +
    `Resume with: ${resume}`
  );
}

/**
 * Until the returned function is called, SIGINT (Ctrl-C) prints `message()` on stderr and
 * exits with 130, the shell's code for it, instead of dying in the middle of a line.
 */
export function onInterrupt(message: () => string): () => void {
  const handler = () => {
    // Synchronous: the process exits right after, and stderr may be a pipe.
    writeSync(2, `\n${message()}\n`);
    process.exit(130);
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
