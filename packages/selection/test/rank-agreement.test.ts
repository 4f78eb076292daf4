import { describe, expect, test } from 'vitest';
import { spearman, topKOverlap } from '../src/index.js';

describe('spearman', () => {
  test('is 1 for the same ranking at any scale and -1 for the reverse', () => {
    const a = [0.1, 0.5, 0.3, 0.9];
    expect(
      spearman(
        a,
        a.map((v) => v * 100 + 3),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      spearman(
        a,
        a.map((v) => Math.exp(v)),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      spearman(
        a,
        a.map((v) => -v),
      ),
    ).toBeCloseTo(-1, 12);
  });

  test('matches the textbook formula 1 - 6Σd²/(n(n²-1)) without ties', () => {
    // Ranks a: 1 2 3 4 5, b: 2 1 4 3 5; Σd² = 4.
    expect(spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50])).toBeCloseTo(1 - (6 * 4) / (5 * 24), 12);
  });

  test('gives tied scores their average rank', () => {
    // Ranks a: 1.5 1.5 3 4, b: 1 2 3 4 (scipy.stats.spearmanr gives 0.9486832980505138).
    expect(spearman([1, 1, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 12);
  });

  test('is NaN when one side is constant, and refuses mismatched or tiny inputs', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(/equally long/);
    expect(() => spearman([1], [1])).toThrow(/at least 2/);
  });
});

describe('topKOverlap', () => {
  test('is the shared fraction of the two top-k sets', () => {
    const a = new Float32Array([0.9, 0.8, 0.7, 0.1, 0.0]);
    const b = new Float32Array([0.9, 0.1, 0.2, 0.8, 0.7]);
    expect(topKOverlap(a, b, 1)).toBe(1);
    expect(topKOverlap(a, b, 2)).toBe(0.5);
    expect(topKOverlap(a, b, 3)).toBeCloseTo(1 / 3, 12);
    expect(topKOverlap(a, b, 5)).toBe(1);
  });

  test('resolves ties by the lower position, as selection does', () => {
    expect(topKOverlap([1, 1, 1], [0, 1, 1], 1)).toBe(0);
    expect(topKOverlap([1, 1, 1], [1, 0, 1], 1)).toBe(1);
  });

  test('refuses k outside 1..n', () => {
    expect(() => topKOverlap([1, 2], [1, 2], 0)).toThrow(/positive integer/);
    expect(() => topKOverlap([1, 2], [1, 2], 3)).toThrow(/k must be an integer in 0..2/);
  });
});
