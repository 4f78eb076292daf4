import type { Rng } from '@prunefuse/engine';

/**
 * k distinct positions out of 0..count-1, uniformly, in draw order: the first k steps of
 * a Fisher-Yates shuffle, so a larger k extends a smaller k's draw from the same seed.
 */
export function randomSelection(count: number, k: number, rng: Rng): Int32Array {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  if (!Number.isInteger(k) || k < 0 || k > count) {
    throw new RangeError(`k must be an integer in 0..${count} (the pool size), got ${k}`);
  }
  const positions = new Int32Array(count);
  for (let i = 0; i < count; i++) positions[i] = i;
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, count - 1);
    const tmp = positions[i]!;
    positions[i] = positions[j]!;
    positions[j] = tmp;
  }
  return positions.slice(0, k);
}
