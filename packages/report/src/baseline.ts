import {
  ACQUISITION_NAMES,
  readJsonFile,
  type RunRecord,
  writeFileAtomic,
} from '@prunefuse/results';
import { z } from 'zod';
import { summarizeRuns } from './aggregate.js';
import { type GroupKey, groupKeyText } from './groups.js';

/**
 * How far a measured value may move against the baseline before `check` fails:
 * accuracy may drop by at most `accuracyDropPoints` percentage points; MACs (each phase
 * and the total) and parameter counts may grow by at most the given percent.
 */
const tolerances = z.strictObject({
  accuracyDropPoints: z.number().min(0),
  macsGrowthPct: z.number().min(0),
  paramsGrowthPct: z.number().min(0),
});

export type Tolerances = z.infer<typeof tolerances>;

/**
 * Defaults written by `baseline write`.
 * - accuracy 2 points: tiny CI runs of one or two seeds move by about a point between
 *   machines and backends (float summation order changes the training trajectory), while
 *   the failures this gate exists for (a broken fusion, a selector that stopped learning)
 *   cost several points. Entries whose seeds disagree more get a wider, per-entry band.
 * - MACs 1%: counted analytically, so they only move when the work changes; 1% lets a
 *   change in how the last round rounds its size pass and fails an extra epoch or layer.
 * - params 0%: exact, and any growth is an architecture change.
 */
export const DEFAULT_TOLERANCES: Tolerances = {
  accuracyDropPoints: 2,
  macsGrowthPct: 1,
  paramsGrowthPct: 0,
};

const baselineEntry = z.strictObject({
  experiment: z.string().min(1),
  dataset: z.string().min(1),
  arch: z.string().min(1),
  /** The method label, as the report prints it. */
  method: z.string().min(1),
  acquisition: z.enum(ACQUISITION_NAMES).nullable(),
  /** Labelled-set size of the measured target. */
  budget: z.int().positive(),
  fraction: z.number().gt(0).max(1),
  /** Seeds the baseline averages; each must be measured again. */
  seeds: z.array(z.int()).min(1),
  accuracyPct: z.number().min(0).max(100),
  accuracyStdPct: z.number().min(0).nullable(),
  macs: z.strictObject({
    selection: z.number().min(0),
    targetTraining: z.number().min(0),
    total: z.number().min(0),
  }),
  params: z.strictObject({
    target: z.number().positive(),
    selector: z.number().positive().nullable(),
  }),
  /** Overrides of the file's defaults for this entry. */
  tolerance: tolerances.partial().optional(),
});

export const regressionBaselineSchema = z.strictObject({
  schema: z.literal(1),
  description: z.string(),
  createdFrom: z.strictObject({
    store: z.string(),
    runs: z.int().nonnegative(),
    gitCommits: z.array(z.string()),
    backends: z.array(z.string()),
  }),
  defaults: tolerances,
  entries: z.array(baselineEntry).min(1),
});

export type RegressionBaseline = z.infer<typeof regressionBaselineSchema>;
export type BaselineEntry = z.infer<typeof baselineEntry>;
export type BaselineKey = GroupKey & { budget: number };

export function baselineKeyText(key: BaselineKey): string {
  return `${groupKeyText(key)} | b=${key.budget}`;
}

export function loadRegressionBaseline(file: string): RegressionBaseline {
  const baseline = readJsonFile(file, regressionBaselineSchema, 'regression baseline');
  const seen = new Map<string, number>();
  for (const [i, entry] of baseline.entries.entries()) {
    const key = baselineKeyText(entry);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new Error(`${file}: entries[${i}] repeats entries[${first}] (${key})`);
    }
    seen.set(key, i);
  }
  return baseline;
}

export function entryTolerances(baseline: RegressionBaseline, entry: BaselineEntry): Tolerances {
  return { ...baseline.defaults, ...entry.tolerance };
}

/**
 * The current means of every group and budget in `records`, with default tolerances.
 * Where the seeds' spread says a mean can move more than the default between two
 * measurements of the same seeds, the entry gets its own accuracy band: three standard
 * errors of the difference of two n-seed means (3·s·√(2/n)), rounded up to half a point.
 */
export function baselineFromRecords(
  records: readonly RunRecord[],
  options: { store: string; description: string; defaults?: Tolerances },
): RegressionBaseline {
  const defaults = options.defaults ?? DEFAULT_TOLERANCES;
  const entries = summarizeRuns(records).flatMap((summary) =>
    summary.budgets.map((b): BaselineEntry => {
      const { std, n } = b.accuracyPct;
      const noiseBand = std === null ? 0 : Math.ceil(3 * std * Math.sqrt(2 / n) * 2) / 2;
      return {
        ...summary.group.key,
        budget: b.labelled,
        fraction: b.fraction,
        seeds: b.seeds,
        accuracyPct: round4(b.accuracyPct.mean),
        accuracyStdPct: std === null ? null : round4(std),
        macs: b.macs,
        params: summary.params,
        ...(noiseBand > defaults.accuracyDropPoints
          ? { tolerance: { accuracyDropPoints: noiseBand } }
          : {}),
      };
    }),
  );
  if (entries.length === 0)
    throw new Error(`${options.store}: no run reached a budget; nothing to record`);
  return {
    schema: 1,
    description: options.description,
    createdFrom: {
      store: options.store,
      runs: records.length,
      gitCommits: unique(records.map((r) => r.environment.gitCommit ?? 'unknown')),
      backends: unique(records.map((r) => backendLabel(r.environment))),
    },
    defaults,
    entries,
  };
}

/** How `createdFrom.backends` names a backend: "wasm (CPU (WebAssembly SIMD, ...))". */
export function backendLabel(environment: RunRecord['environment']): string {
  return `${environment.backend} (${environment.device})`;
}

export function writeRegressionBaseline(file: string, baseline: RegressionBaseline): void {
  writeFileAtomic(file, `${JSON.stringify(baseline, null, 2)}\n`);
}

/** Four decimals of a percentage are far below any tolerance and keep the file readable. */
function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/** Distinct values, sorted. */
export function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
