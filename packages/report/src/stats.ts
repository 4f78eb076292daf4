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
