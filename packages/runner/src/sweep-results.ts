import { summarizeRuns } from '@prunefuse/report';
import type { RunRecord } from '@prunefuse/results';
import { formatMacs } from './dry-run.js';
import { formatTable } from './output.js';

/** One method at one budget, over the seeds of the sweep that reached it. */
export interface SweepResult {
  experiment: string;
  dataset: string;
  arch: string;
  method: string;
  acquisition: string | null;
  labelled: number;
  fraction: number;
  /** Test accuracy of the method's target in percent: mean, sample std (null for one seed), seeds. */
  accuracyPct: { mean: number; std: number | null; n: number };
  /** Selection MACs spent to reach this budget, mean over seeds. */
  selectionMacs: number;
}

/** What a sweep's finished runs reached, grouped as the report groups them. */
export function sweepResults(records: readonly RunRecord[]): SweepResult[] {
  return summarizeRuns(records).flatMap(({ group, budgets }) =>
    budgets.map((b) => ({
      ...group.key,
      labelled: b.labelled,
      fraction: b.fraction,
      accuracyPct: b.accuracyPct,
      selectionMacs: b.macs.selection,
    })),
  );
}

/**
 * The compact table `run` ends with: method by budget, accuracy mean ± std over seeds and
 * selection MACs. Experiment, dataset, architecture and acquisition appear only where
 * the sweep varies them.
 */
export function formatSweepResults(results: readonly SweepResult[]): string {
  // Random and full data select without an acquisition function: they vary nothing.
  const varies = (field: 'experiment' | 'dataset' | 'arch' | 'acquisition') =>
    new Set(results.flatMap((r) => (r[field] === null ? [] : [r[field]]))).size > 1;
  const setting = (['experiment', 'dataset', 'arch', 'acquisition'] as const).filter(varies);
  return formatTable(
    [...setting, 'method', 'budget', 'accuracy %', 'selection MACs'],
    results.map((r) => [
      ...setting.map((field) => r[field] ?? '-'),
      r.method,
      `${Math.round(r.fraction * 1000) / 10}% (${r.labelled})`,
      `${r.accuracyPct.mean.toFixed(2)}${r.accuracyPct.std === null ? '' : ` ± ${r.accuracyPct.std.toFixed(2)}`} (n=${r.accuracyPct.n})`,
      r.selectionMacs > 0 ? formatMacs(r.selectionMacs) : '-',
    ]),
  );
}
