import type { RunRecord } from '@prunefuse/results';
import { groupRuns, type RunGroup } from './groups.js';
import { type BudgetMeasurement, budgetMeasurements } from './measurements.js';
import { mean, type Stat, summarize } from './stats.js';

export interface BudgetSummary {
  labelled: number;
  fraction: number;
  /** Test accuracy of the method's target in percent, over the seeds that reached this budget. */
  accuracyPct: Stat;
  seeds: number[];
  runIds: string[];
  /** Means over seeds (MAC counts are analytic, so seeds normally agree). */
  macs: { selection: number; targetTraining: number; total: number };
}

export interface GroupSummary {
  group: RunGroup;
  budgets: BudgetSummary[];
  params: { target: number; selector: number | null };
}

export function summarizeRuns(records: readonly RunRecord[]): GroupSummary[] {
  return groupRuns(records).map(summarizeGroup);
}

export function summarizeGroup(group: RunGroup): GroupSummary {
  const byBudget = new Map<number, { run: RunRecord; m: BudgetMeasurement }[]>();
  for (const run of group.runs) {
    for (const m of budgetMeasurements(run)) {
      byBudget.set(m.labelled, [...(byBudget.get(m.labelled) ?? []), { run, m }]);
    }
  }
  const budgets = [...byBudget.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([labelled, points]): BudgetSummary => ({
        labelled,
        fraction: mean(points.map((p) => p.m.fraction)),
        accuracyPct: summarize(points.map((p) => p.m.accuracy * 100)),
        seeds: [...new Set(points.map((p) => p.run.config.seed))].sort((a, b) => a - b),
        runIds: points.map((p) => p.run.id),
        macs: {
          selection: mean(points.map((p) => p.m.macs.selection)),
          targetTraining: mean(points.map((p) => p.m.macs.targetTraining)),
          total: mean(points.map((p) => p.m.macs.total)),
        },
      }),
    );
  const selectors = group.runs.map((r) => r.params.selector);
  return {
    group,
    budgets,
    params: {
      target: mean(group.runs.map((r) => r.params.target)),
      selector: selectors.every((s) => s !== null) ? mean(selectors as number[]) : null,
    },
  };
}
