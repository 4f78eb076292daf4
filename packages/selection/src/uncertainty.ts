import { probabilityRows } from './probabilities.js';

/**
 * Uncertainty scores over a row-major [rows, classes] probability matrix, one score per
 * row. Every score is "higher = more uncertain", so topK(scores, k) picks what to label.
 */

/** 1 - max_c p_c. */
export function leastConfidence(probabilities: Float32Array, classes: number): Float32Array {
  const rows = probabilityRows(probabilities, classes, 1);
  const scores = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let top = -Infinity;
    for (let c = row * classes; c < (row + 1) * classes; c++)
      top = Math.max(top, probabilities[c]!);
    scores[row] = 1 - top;
  }
  return scores;
}

/** Shannon entropy -Σ p ln p in nats, with 0 ln 0 = 0. */
export function entropy(probabilities: Float32Array, classes: number): Float32Array {
  const rows = probabilityRows(probabilities, classes, 1);
  const scores = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let c = row * classes; c < (row + 1) * classes; c++) {
      const p = probabilities[c]!;
      if (p > 0) sum -= p * Math.log(p);
    }
    scores[row] = sum;
  }
  return scores;
}

/**
 * 1 - (p1 - p2), where p1 >= p2 are the two largest probabilities of the row: 0 for a
 * certain prediction, 1 when the top two classes tie.
 */
export function margin(probabilities: Float32Array, classes: number): Float32Array {
  const rows = probabilityRows(probabilities, classes, 2);
  const scores = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let first = -Infinity;
    let second = -Infinity;
    for (let c = row * classes; c < (row + 1) * classes; c++) {
      const p = probabilities[c]!;
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) {
        second = p;
      }
    }
    scores[row] = 1 - (first - second);
  }
  return scores;
}
