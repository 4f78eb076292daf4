import type { Panel } from './panels.js';

/** The paper-style table of one panel: methods by budgets, mean ± std over seeds. */
export interface ResultTable {
  columns: { labelled: number; fraction: number }[];
  rows: { method: string; seeds: number; cells: (TableCell | null)[] }[];
}

export interface TableCell {
  /** Accuracy in percent. */
  mean: number;
  std: number | null;
  n: number;
  /** Highest mean of its column; only marked where at least two methods reached the budget. */
  best: boolean;
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
    cells: ordered.map(({ labelled }): TableCell | null => {
      const budget = summary.budgets.find((b) => b.labelled === labelled);
      return budget ? { ...budget.accuracyPct, best: false } : null;
    }),
  }));
  ordered.forEach((_, column) => {
    const cells = rows.flatMap((r) => (r.cells[column] ? [r.cells[column]] : []));
    if (cells.length < 2) return;
    const top = Math.max(...cells.map((c) => c.mean));
    for (const cell of cells) cell.best = cell.mean === top;
  });
  return { columns: ordered, rows };
}
