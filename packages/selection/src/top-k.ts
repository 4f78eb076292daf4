/**
 * Positions of the k highest scores, highest first; equal scores go to the lower
 * position first, so the result depends on nothing but the scores.
 */
export function topK(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`k must be an integer in 0..${n} (the number of scores), got ${k}`);
  }
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) {
      throw new RangeError(`score at position ${i} is NaN; scores must be numbers to be ranked`);
    }
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    // Comparisons, not subtraction: Infinity - Infinity would be NaN.
    if (sa > sb) return -1;
    if (sa < sb) return 1;
    return a - b;
  });
  return order.slice(0, k);
}
