import type { ResultsStore } from '@prunefuse/results';
import type { ExpandedRun } from './config/expand.js';

/** A finished run of the sweep whose record was computed by another commit of the code. */
export interface StaleRun {
  id: string;
  /** The commit recorded with the run; null when it ran outside a git checkout. */
  commit: string | null;
}

/**
 * Finished runs of `runs` computed at a commit other than `commit`. Run ids hash the
 * config, not the code, so a sweep resumed after a code change would otherwise mix
 * figures of two programs silently. Nothing is stale when this checkout's own commit is
 * unknown (a bundle outside git), since nothing can be compared.
 */
export function runsFromOtherCommits(
  store: ResultsStore | null,
  runs: readonly ExpandedRun[],
  commit: string | null,
): StaleRun[] {
  if (!store || commit === null) return [];
  return runs.flatMap(({ id }) => {
    const found = store.inspect(id);
    if (found.state !== 'finished') return [];
    const recorded = found.record.environment.gitCommit;
    return recorded === commit ? [] : [{ id, commit: recorded }];
  });
}

/** "3 runs were computed at commit 1a2b3c4 (2), 5d6e7f8 (1); this checkout is 9a8b7c6." */
export function describeStaleRuns(stale: readonly StaleRun[], commit: string): string {
  const counts = new Map<string, number>();
  for (const run of stale) {
    const name = run.commit === null ? 'an unknown commit' : shortCommit(run.commit);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const at = [...counts].map(([name, n]) => `${name} (${n})`).join(', ');
  return (
    `${stale.length} finished run${stale.length === 1 ? ' was' : 's were'} computed at commit ${at}; ` +
    `this checkout is ${shortCommit(commit)}`
  );
}

/** The first 7 hex digits, keeping a '-dirty' mark. */
export function shortCommit(commit: string): string {
  const [sha = '', ...rest] = commit.split('-');
  return [sha.slice(0, 7), ...rest].join('-');
}
