import type { RunRecord } from '@prunefuse/results';
import { type BudgetSummary, summarizeRuns } from './aggregate.js';
import {
  type BaselineEntry,
  type BaselineKey,
  baselineKeyText,
  entryTolerances,
  type RegressionBaseline,
} from './baseline.js';
import { measuredProblems } from './measured-problems.js';

/** invalid: a measured value is not a sound figure, or a run of the entry diverged. */
export type CheckStatus = 'pass' | 'regressed' | 'missing' | 'improved' | 'invalid';

export type CheckedMetric =
  | 'accuracyPct'
  | 'macs.selection'
  | 'macs.targetTraining'
  | 'macs.total'
  | 'params.target'
  | 'params.selector';

export interface MetricCheck {
  metric: CheckedMetric;
  baseline: number;
  /** null when the measured runs lack the metric (or the runs are missing). */
  measured: number | null;
  /** measured - baseline, in the metric's own unit (accuracy points, MACs, parameters). */
  delta: number | null;
  /** Growth relative to the baseline in percent, for MACs and parameters; null from a baseline of 0. */
  deltaPct: number | null;
  /** Allowed accuracy drop in points, or allowed growth in percent. */
  tolerance: number;
  toleranceUnit: 'points' | 'percent';
  status: CheckStatus;
}

/** One baseline entry against the measured runs of its group and budget. */
export interface CheckRow {
  key: BaselineKey;
  keyText: string;
  status: CheckStatus;
  seeds: { baseline: number[]; measured: number[]; missing: number[] };
  metrics: MetricCheck[];
}

export interface CheckResult {
  /** false when any entry regressed, is missing or invalid, or any run has a problem. */
  ok: boolean;
  /**
   * Runs whose figures are unsound (non-finite, out of range) or that diverged, in the
   * baseline or not: each fails the check.
   */
  problems: string[];
  rows: CheckRow[];
  counts: Record<CheckStatus, number>;
  /** Measured groups and budgets the baseline does not cover (new methods): reported, never failed. */
  unbaselined: string[];
}

type Measured = BudgetSummary & { params: { target: number; selector: number | null } };

/** Compares the seed means of `records` with every entry of `baseline`. */
export function checkAgainstBaseline(
  records: readonly RunRecord[],
  baseline: RegressionBaseline,
): CheckResult {
  const measured = new Map<string, Measured>();
  for (const summary of summarizeRuns(records)) {
    for (const budget of summary.budgets) {
      const key = baselineKeyText({ ...summary.group.key, budget: budget.labelled });
      measured.set(key, { ...budget, params: summary.params });
    }
  }
  const unsound = new Set<string>();
  const problems = records.flatMap((record) => {
    const found = measuredProblems(record);
    if (found.length > 0) unsound.add(record.id);
    return found;
  });
  const rows = baseline.entries.map((entry) => {
    const found = measured.get(baselineKeyText(entry));
    const row = checkEntry(baseline, entry, found);
    const invalid =
      found?.runIds.some((id) => unsound.has(id)) ||
      row.metrics.some((m) => m.status === 'invalid');
    return invalid ? { ...row, status: 'invalid' as const } : row;
  });
  const covered = new Set(rows.map((r) => r.keyText));
  const counts: Record<CheckStatus, number> = {
    pass: 0,
    regressed: 0,
    missing: 0,
    improved: 0,
    invalid: 0,
  };
  for (const row of rows) counts[row.status] += 1;
  return {
    ok:
      counts.regressed === 0 &&
      counts.missing === 0 &&
      counts.invalid === 0 &&
      problems.length === 0,
    problems,
    rows,
    counts,
    unbaselined: [...measured.keys()].filter((k) => !covered.has(k)).sort(),
  };
}

function checkEntry(
  baseline: RegressionBaseline,
  entry: BaselineEntry,
  found: Measured | undefined,
): CheckRow {
  const key: BaselineKey = {
    experiment: entry.experiment,
    dataset: entry.dataset,
    arch: entry.arch,
    method: entry.method,
    acquisition: entry.acquisition,
    budget: entry.budget,
  };
  const tolerance = entryTolerances(baseline, entry);
  const measuredSeeds = found?.seeds ?? [];
  const missingSeeds = entry.seeds.filter((s) => !measuredSeeds.includes(s));
  const metrics: MetricCheck[] = [
    accuracyCheck(entry.accuracyPct, found?.accuracyPct.mean ?? null, tolerance.accuracyDropPoints),
    growthCheck(
      'macs.selection',
      entry.macs.selection,
      found?.macs.selection,
      tolerance.macsGrowthPct,
    ),
    growthCheck(
      'macs.targetTraining',
      entry.macs.targetTraining,
      found?.macs.targetTraining,
      tolerance.macsGrowthPct,
    ),
    growthCheck('macs.total', entry.macs.total, found?.macs.total, tolerance.macsGrowthPct),
    growthCheck(
      'params.target',
      entry.params.target,
      found?.params.target,
      tolerance.paramsGrowthPct,
    ),
  ];
  if (entry.params.selector !== null) {
    metrics.push(
      growthCheck(
        'params.selector',
        entry.params.selector,
        found?.params.selector,
        tolerance.paramsGrowthPct,
      ),
    );
  }
  return {
    key,
    keyText: baselineKeyText(key),
    status: rowStatus(metrics, missingSeeds.length > 0),
    seeds: { baseline: entry.seeds, measured: measuredSeeds, missing: missingSeeds },
    metrics,
  };
}

function rowStatus(metrics: readonly MetricCheck[], seedsMissing: boolean): CheckStatus {
  const statuses = new Set(metrics.map((m) => m.status));
  if (statuses.has('invalid')) return 'invalid';
  if (seedsMissing || statuses.has('missing')) return 'missing';
  if (statuses.has('regressed')) return 'regressed';
  if (statuses.has('improved')) return 'improved';
  return 'pass';
}

/**
 * A baseline file holds accuracies rounded to 4 decimals (baseline.ts), so a recorded
 * 58.6667 may stand for 58.66666...: a run exactly `dropPoints` below the true figure
 * would otherwise read as 2.00003 points down. Half the last stored digit is the slack.
 */
const STORED_ACCURACY_ROUNDING = 0.5e-4;

function accuracyCheck(baseline: number, measured: number | null, dropPoints: number): MetricCheck {
  const delta = measured === null ? null : measured - baseline;
  const band = dropPoints + STORED_ACCURACY_ROUNDING;
  if (measured !== null && !Number.isFinite(measured)) {
    return {
      metric: 'accuracyPct',
      baseline,
      measured,
      delta,
      deltaPct: null,
      tolerance: dropPoints,
      toleranceUnit: 'points',
      status: 'invalid',
    };
  }
  return {
    metric: 'accuracyPct',
    baseline,
    measured,
    delta,
    deltaPct: null,
    tolerance: dropPoints,
    toleranceUnit: 'points',
    status:
      delta === null ? 'missing' : delta < -band ? 'regressed' : delta > band ? 'improved' : 'pass',
  };
}

/** Relative slack for float noise in means of identical analytic counts. */
const EXACT = 1e-9;

function growthCheck(
  metric: CheckedMetric,
  baseline: number,
  measured: number | null | undefined,
  growthPct: number,
): MetricCheck {
  const base = { metric, baseline, tolerance: growthPct, toleranceUnit: 'percent' } as const;
  if (measured === null || measured === undefined) {
    return { ...base, measured: null, delta: null, deltaPct: null, status: 'missing' };
  }
  const delta = measured - baseline;
  if (!Number.isFinite(measured)) {
    return { ...base, measured, delta, deltaPct: null, status: 'invalid' };
  }
  if (baseline === 0) {
    // Any work where the baseline did none is growth beyond every percentage.
    return {
      ...base,
      measured,
      delta,
      deltaPct: null,
      status: measured > 0 ? 'regressed' : 'pass',
    };
  }
  const deltaPct = (delta / baseline) * 100;
  const status =
    deltaPct > growthPct + EXACT
      ? 'regressed'
      : deltaPct < -(growthPct + EXACT)
        ? 'improved'
        : 'pass';
  return { ...base, measured, delta, deltaPct, status };
}
