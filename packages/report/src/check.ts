import type { RunRecord } from '@prunefuse/results';
import { type BudgetSummary, summarizeRuns } from './aggregate.js';
import {
  type BaselineEntry,
  type BaselineKey,
  backendLabel,
  baselineKeyText,
  entryTolerances,
  type RegressionBaseline,
  unique,
} from './baseline.js';
import { groupKeyText } from './groups.js';
import { measuredProblems } from './measured-problems.js';
import { mean, pairedDifference } from './stats.js';

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

/**
 * What holds an entry's accuracy. `entry`: the entry's own tolerance, for runs on a
 * backend the baseline was made with. `mean across backends`: the entry's difference is
 * shown but only the mean over groups (`AccuracyAcrossBackends`) can fail.
 */
export type AccuracyGate = 'entry' | 'mean across backends';

/** One baseline entry against the measured runs of its group and budget. */
export interface CheckRow {
  key: BaselineKey;
  keyText: string;
  /** Accuracy counts toward this only under the `entry` gate. */
  status: CheckStatus;
  accuracyGate: AccuracyGate;
  /**
   * `measured`: the baseline's seeds the store has, which the metrics compare; `missing`:
   * the baseline's seeds it lacks; `notCompared`: seeds the store has beyond the baseline's.
   */
  seeds: { baseline: number[]; measured: number[]; missing: number[]; notCompared: number[] };
  metrics: MetricCheck[];
}

/**
 * The accuracy gate for runs on a backend or device the baseline was not made with.
 *
 * On the baseline's own backend and device a rerun reproduces the baseline to the last
 * digit (same seed, same float order), so each entry is held to its tolerance and any
 * drift is a change. On another backend, or another adapter (a tile table measured per
 * adapter changes a GEMM's summation order), float rounding differs from the first step
 * (quick-ci's first epoch loss: 2.3202812 on webgpu against 2.3202814 on wasm), and
 * training on 50-200 labels amplifies it: quick-ci on webgpu (llvmpipe) moved its 8
 * entries by -9.3 to +3.3 points (mean -1.8) in one run and by -8.7 to +8.0 (mean +0.5)
 * in an earlier one, and the same sweep's 5 wasm seeds spread 3-10 points per entry. One
 * entry cannot tell there whether a backend learns as well; the mean over groups can. A
 * group (one method's runs: its budgets share trajectories, so they are not independent)
 * contributes the mean of its entries' differences; the gate fails when even the upper
 * end of the one-sided 97.5% Student t bound on the mean of those is more than the
 * tolerance below 0, i.e. when the backend is confidently worse by more than the
 * tolerance. With one group there is no spread, and its difference is held to the
 * tolerance directly.
 */
export interface AccuracyAcrossBackends {
  /** Backends with their devices ("wasm (CPU ...)") of the baseline's and the measured runs. */
  baselineBackends: string[];
  measuredBackends: string[];
  /** Per measured group: the mean over its entries of measured - baseline accuracy, in points. */
  groups: { group: string; entries: number; deltaPoints: number }[];
  /** null when no group was measured. */
  meanDeltaPoints: number | null;
  /** Upper end of the one-sided 97.5% bound on the mean; null from fewer than 2 groups. */
  upperBoundPoints: number | null;
  tolerancePoints: number;
  status: 'pass' | 'regressed' | 'missing';
}

export interface CheckResult {
  /** false when any entry regressed, is missing or invalid, or any run has a problem. */
  ok: boolean;
  /** Set when the runs are on a backend or device the baseline was not made with: see its type. */
  accuracyAcrossBackends: AccuracyAcrossBackends | null;
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

/** The seed means of `records` per baseline key (group and budget). */
function measuredByKey(records: readonly RunRecord[]): Map<string, Measured> {
  const measured = new Map<string, Measured>();
  for (const summary of summarizeRuns(records)) {
    for (const budget of summary.budgets) {
      const key = baselineKeyText({ ...summary.group.key, budget: budget.labelled });
      measured.set(key, { ...budget, params: summary.params });
    }
  }
  return measured;
}

/**
 * Compares each entry of `baseline` with the mean over the same seeds in `records`.
 *
 * The same seeds, not every seed the store has: on the baseline's backend a seed reruns
 * to the last digit, so a change shows exactly; a store that has gained seeds since the
 * baseline was written (a sweep extended from one seed to two) would otherwise move each
 * mean by the new seeds' spread, a point or more at these budgets, and fail or hide a
 * change for reasons that are not one. Seeds beyond the baseline's are listed per row.
 */
export function checkAgainstBaseline(
  records: readonly RunRecord[],
  baseline: RegressionBaseline,
): CheckResult {
  const measured = measuredByKey(records);
  const overSeeds = new Map<string, Map<string, Measured>>();
  const measuredOverSeeds = (seeds: readonly number[]): Map<string, Measured> => {
    const key = seeds.join(',');
    let found = overSeeds.get(key);
    if (!found) {
      found = measuredByKey(records.filter((r) => seeds.includes(r.config.seed)));
      overSeeds.set(key, found);
    }
    return found;
  };
  const unsound = new Set<string>();
  const problems = records.flatMap((record) => {
    const found = measuredProblems(record);
    if (found.length > 0) unsound.add(record.id);
    return found;
  });
  // A backend on a device: the same code on another adapter (or CPU) may round differently.
  const baselineBackends = unique(baseline.createdFrom.backends);
  const measuredBackends = unique(records.map((r) => backendLabel(r.environment)));
  const acrossBackends =
    baselineBackends.length > 0 && measuredBackends.some((b) => !baselineBackends.includes(b));
  const gate: AccuracyGate = acrossBackends ? 'mean across backends' : 'entry';
  const rows = baseline.entries.map((entry) => {
    const keyText = baselineKeyText(entry);
    const found = measuredOverSeeds(entry.seeds).get(keyText);
    const storeSeeds = measured.get(keyText)?.seeds ?? [];
    const row = checkEntry({ baseline, entry, found, storeSeeds, gate });
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
  const accuracyAcrossBackends = acrossBackends
    ? meanAccuracyAcrossBackends({
        rows,
        baselineBackends,
        measuredBackends,
        tolerancePoints: baseline.defaults.accuracyDropPoints,
      })
    : null;
  return {
    ok:
      counts.regressed === 0 &&
      counts.missing === 0 &&
      counts.invalid === 0 &&
      problems.length === 0 &&
      accuracyAcrossBackends?.status !== 'regressed',
    accuracyAcrossBackends,
    problems,
    rows,
    counts,
    unbaselined: [...measured.keys()].filter((k) => !covered.has(k)).sort(),
  };
}

function checkEntry({
  baseline,
  entry,
  found,
  storeSeeds,
  gate,
}: {
  baseline: RegressionBaseline;
  entry: BaselineEntry;
  /** The entry's group and budget over the entry's seeds. */
  found: Measured | undefined;
  /** Every seed the store has for the entry's group and budget. */
  storeSeeds: readonly number[];
  gate: AccuracyGate;
}): CheckRow {
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
  // Under the mean gate an entry's accuracy difference is information; missing or
  // unsound accuracy still fails the entry.
  const gating = metrics.filter(
    (m) =>
      gate === 'entry' ||
      m.metric !== 'accuracyPct' ||
      m.status === 'missing' ||
      m.status === 'invalid',
  );
  return {
    key,
    keyText: baselineKeyText(key),
    status: rowStatus(gating, missingSeeds.length > 0),
    accuracyGate: gate,
    seeds: {
      baseline: entry.seeds,
      measured: measuredSeeds,
      missing: missingSeeds,
      notCompared: storeSeeds.filter((s) => !entry.seeds.includes(s)),
    },
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

function meanAccuracyAcrossBackends({
  rows,
  baselineBackends,
  measuredBackends,
  tolerancePoints,
}: {
  rows: readonly CheckRow[];
  baselineBackends: string[];
  measuredBackends: string[];
  tolerancePoints: number;
}): AccuracyAcrossBackends {
  const byGroup = new Map<string, number[]>();
  for (const row of rows) {
    const accuracy = row.metrics.find((m) => m.metric === 'accuracyPct');
    if (accuracy?.delta === null || accuracy?.delta === undefined) continue;
    if (!Number.isFinite(accuracy.delta)) continue;
    const group = groupKeyText(row.key);
    byGroup.set(group, [...(byGroup.get(group) ?? []), accuracy.delta]);
  }
  const groups = [...byGroup].map(([group, deltas]) => ({
    group,
    entries: deltas.length,
    deltaPoints: mean(deltas),
  }));
  const base = { baselineBackends, measuredBackends, groups, tolerancePoints };
  if (groups.length === 0) {
    return { ...base, meanDeltaPoints: null, upperBoundPoints: null, status: 'missing' };
  }
  const difference = pairedDifference(groups.map((g) => g.deltaPoints));
  const upper = difference.interval?.high ?? null;
  const band = tolerancePoints + STORED_ACCURACY_ROUNDING;
  return {
    ...base,
    meanDeltaPoints: difference.mean,
    upperBoundPoints: upper,
    status: (upper ?? difference.mean) < -band ? 'regressed' : 'pass',
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
