/// <reference path="./jstat.d.ts" />
import jStat from 'jstat';

/** Mean and sample standard deviation (n - 1) over seeds; a single seed has no spread to report. */
export interface Stat {
  mean: number;
  std: number | null;
  n: number;
}

export function summarize(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) throw new Error('summarize: no values');
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n < 2) return { mean, std: null, n };
  const squares = values.reduce((sum, v) => sum + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(squares / (n - 1)), n };
}

export function mean(values: readonly number[]): number {
  return summarize(values).mean;
}

/** A mean difference over seeds with its two-sided 95% interval; none from a single seed. */
export interface Difference {
  mean: number;
  n: number;
  interval: { low: number; high: number } | null;
}

/**
 * Student's t interval on paired differences (one per seed, both arms run with it), so
 * that what a seed shares between the arms (initial set, data order) cancels out.
 */
export function pairedDifference(differences: readonly number[]): Difference {
  const { mean, std, n } = summarize(differences);
  if (std === null) return { mean, n, interval: null };
  const half = jStat.studentt.inv(0.975, n - 1) * (std / Math.sqrt(n));
  return { mean, n, interval: { low: mean - half, high: mean + half } };
}
