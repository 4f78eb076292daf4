import { Rng } from '@prunefuse/engine';
import { describe, expect, test } from 'vitest';
import { randomSelection, topK } from '../src/index.js';

describe('topK', () => {
  test('returns the positions of the highest scores, highest first', () => {
    expect(Array.from(topK(new Float32Array([0.1, 0.9, 0.3, 0.7]), 3))).toEqual([1, 3, 2]);
  });

  test('breaks ties by the lower position', () => {
    const scores = new Float32Array([0.5, 0.9, 0.5, 0.9, 0.1, 0.5]);
    expect(Array.from(topK(scores, 4))).toEqual([1, 3, 0, 2]);
    expect(Array.from(topK(new Float32Array(5), 3))).toEqual([0, 1, 2]);
  });

  test('orders infinities without producing NaN comparisons', () => {
    const scores = [
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      0,
      Number.POSITIVE_INFINITY,
    ];
    expect(Array.from(topK(scores, 4))).toEqual([1, 3, 2, 0]);
  });

  test('k = 0 and k = n are allowed; anything else outside is refused', () => {
    expect(topK(new Float32Array([1, 2]), 0)).toHaveLength(0);
    expect(Array.from(topK(new Float32Array([1, 2]), 2))).toEqual([1, 0]);
    expect(() => topK(new Float32Array([1, 2]), 3)).toThrow(/k must be an integer in 0..2/);
    expect(() => topK(new Float32Array([1, 2]), 1.5)).toThrow(/k must be an integer/);
  });

  test('a NaN score is refused', () => {
    expect(() => topK(new Float32Array([1, Number.NaN]), 1)).toThrow(/position 1 is NaN/);
  });
});

describe('randomSelection', () => {
  test('draws k distinct positions inside the pool', () => {
    const picks = randomSelection(100, 40, new Rng(3));
    expect(picks).toHaveLength(40);
    expect(new Set(picks).size).toBe(40);
    for (const p of picks) expect(p >= 0 && p < 100).toBe(true);
  });

  test('is a function of the seed, and a larger k extends a smaller one', () => {
    const a = randomSelection(1000, 10, new Rng(5));
    expect(Array.from(randomSelection(1000, 10, new Rng(5)))).toEqual(Array.from(a));
    expect(Array.from(randomSelection(1000, 10, new Rng(6)))).not.toEqual(Array.from(a));
    expect(Array.from(randomSelection(1000, 20, new Rng(5)).subarray(0, 10))).toEqual(
      Array.from(a),
    );
  });

  test('every position is about equally likely', () => {
    const counts = new Array(5).fill(0);
    const rng = new Rng(11);
    for (let i = 0; i < 5000; i++) counts[randomSelection(5, 2, rng)[1]!]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  test('k larger than the pool is refused', () => {
    expect(() => randomSelection(3, 4, new Rng(1))).toThrow(/k must be an integer in 0..3/);
    expect(randomSelection(0, 0, new Rng(1))).toHaveLength(0);
  });
});
