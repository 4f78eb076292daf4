import { topK } from './top-k.js';

/**
 * How alike two models rank the same pool (the paper's open question 4): both score
 * arrays give one score per pool position, higher = more worth labelling.
 */

/**
 * Spearman's rank correlation: the Pearson correlation of the two rankings, tied scores
 * sharing their average rank. NaN when either array is constant (no ranking to compare),
 * as scipy.stats.spearmanr does.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(
      `spearman needs equally long score arrays, got ${a.length} and ${b.length}`,
    );
  }
  if (a.length < 2) throw new RangeError(`spearman needs at least 2 scores, got ${a.length}`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  // Average ranks of n items always have mean (n + 1) / 2.
  const mean = (a.length + 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  if (varianceA === 0 || varianceB === 0) return Number.NaN;
  return covariance / Math.sqrt(varianceA * varianceB);
}

/** The fraction of the k top-scored positions (topK's tie rule) that both arrays share. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  if (a.length !== b.length) {
    throw new RangeError(
      `topKOverlap needs equally long score arrays, got ${a.length} and ${b.length}`,
    );
  }
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const inA = new Uint8Array(a.length);
  for (const position of topK(a, k)) inA[position] = 1;
  let shared = 0;
  for (const position of topK(b, k)) shared += inA[position]!;
  return shared / k;
}

/** Ranks 1..n, ascending by score; a run of equal scores takes the mean of its ranks. */
function averageRanks(scores: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const order = topK(scores, n).reverse();
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    // Positions start..end-1 hold ranks start+1..end.
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]!] = rank;
    start = end;
  }
  return ranks;
}
