import type { Panel } from './panels.js';

/** The paper-style table of one panel: methods by budgets, mean ± std over seeds. */
export interface ResultTable {
  columns: { labelled: number; fraction: number }[];
  rows: {
    method: string;
    seeds: number;
    /**
     * The commits its seeds were computed at (short, sorted), when they differ: a group
     * that mixes two versions of the code is marked (`run --rerun-stale` recomputes it).
     */
    mixedCommits: string[] | null;
    cells: (TableCell | null)[];
  }[];
}

export interface TableCell {
  /** Accuracy in percent. */
  mean: number;
  std: number | null;
  n: number;
  /**
   * Highest mean of its column by more than the spread: its lead over the runner-up
   * exceeds the larger of the two standard deviations. Never with one seed, which has
   * no spread to measure the lead against.
   */
  best: boolean;
  /** Seeds whose target at this budget diverged (see the record's `diverged`): never best. */
  diverged: number;
}

function mixedCommits(commits: readonly (string | null)[]): string[] | null {
  const distinct = [...new Set(commits.map((c) => (c === null ? 'unknown' : c.slice(0, 7))))];
  return distinct.length > 1 ? distinct.sort() : null;
}

export function resultTable(panel: Panel): ResultTable {
  const columns = new Map<number, number>();
  for (const summary of panel.summaries) {
    for (const b of summary.budgets)
      if (!columns.has(b.labelled)) columns.set(b.labelled, b.fraction);
  }
  const ordered = [...columns.entries()]
    .sort(([a], [b]) => a - b)
    .map(([labelled, fraction]) => ({ labelled, fraction }));
  const rows = panel.summaries.map((summary) => ({
    method: summary.group.key.method,
    seeds: summary.group.runs.length,
    mixedCommits: mixedCommits(summary.group.runs.map((run) => run.environment.gitCommit)),
    cells: ordered.map(({ labelled }): TableCell | null => {
      const budget = summary.budgets.find((b) => b.labelled === labelled);
      const diverged = summary.group.runs.filter((run) =>
        run.targets.some((t) => t.labelled === labelled && t.diverged),
      ).length;
      return budget ? { ...budget.accuracyPct, best: false, diverged } : null;
    }),
  }));
  ordered.forEach((_, column) => {
    const cells = rows.flatMap((r) =>
      r.cells[column] && r.cells[column].diverged === 0 ? [r.cells[column]] : [],
    );
    const [top, runnerUp] = [...cells].sort((a, b) => b.mean - a.mean);
    if (!top || !runnerUp || top.std === null || runnerUp.std === null) return;
    top.best = top.mean - runnerUp.mean > Math.max(top.std, runnerUp.std);
  });
  return { columns: ordered, rows };
}
