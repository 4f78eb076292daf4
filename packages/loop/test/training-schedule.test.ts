import { describe, expect, test } from 'vitest';
import { learningRateAt } from '../src/index.js';

/** Lengths of the runs of equal learning rates, with each run's rate. */
function segments(totalEpochs: number, peak = 0.1): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let epoch = 0; epoch < totalEpochs; epoch++) {
    const lr = learningRateAt('svp-step', epoch, totalEpochs, peak);
    const last = runs.at(-1);
    if (last && last[1] === lr) last[0]++;
    else runs.push([1, lr]);
  }
  return runs;
}

describe('svp-step', () => {
  test('is SVP schedule exactly at 181 epochs: 1@lr/10, 90@lr, 45@lr/10, 45@lr/100', () => {
    expect(segments(181)).toEqual([
      [1, 0.1 * 0.1],
      [90, 0.1],
      [45, 0.1 * 0.1],
      [45, 0.1 * 0.01],
    ]);
  });

  test('scales proportionally with at least one epoch per segment', () => {
    expect(segments(10).map(([n]) => n)).toEqual([1, 4, 3, 2]);
    expect(segments(20).map(([n]) => n)).toEqual([1, 9, 5, 5]);
    expect(segments(4).map(([n]) => n)).toEqual([1, 1, 1, 1]);
    expect(segments(362).map(([n]) => n)).toEqual([2, 180, 90, 90]);
  });

  test('drops the warm-up first when there are fewer epochs than segments', () => {
    expect(segments(3, 1)).toEqual([
      [1, 1],
      [1, 0.1],
      [1, 0.01],
    ]);
    expect(segments(2, 1)).toEqual([
      [1, 1],
      [1, 0.1],
    ]);
    expect(segments(1, 1)).toEqual([[1, 1]]);
  });
});

describe('cosine and constant', () => {
  test('cosine falls from the peak as (1 + cos(π e / E)) / 2, per epoch', () => {
    expect(learningRateAt('cosine', 0, 4, 0.2)).toBeCloseTo(0.2, 12);
    expect(learningRateAt('cosine', 1, 4, 0.2)).toBeCloseTo(0.1 * (1 + Math.SQRT1_2), 12);
    expect(learningRateAt('cosine', 2, 4, 0.2)).toBeCloseTo(0.1, 12);
    expect(learningRateAt('cosine', 3, 4, 0.2)).toBeCloseTo(0.1 * (1 - Math.SQRT1_2), 12);
  });

  test('constant is the peak throughout', () => {
    expect([0, 5, 9].map((e) => learningRateAt('constant', e, 10, 0.05))).toEqual([
      0.05, 0.05, 0.05,
    ]);
  });
});

test('refuses epochs outside the run and rates that are not positive', () => {
  expect(() => learningRateAt('svp-step', 10, 10, 0.1)).toThrow(/epoch must be an integer in 0..9/);
  expect(() => learningRateAt('cosine', 0, 0, 0.1)).toThrow(
    /totalEpochs must be a positive integer/,
  );
  expect(() => learningRateAt('constant', 0, 1, 0)).toThrow(/finite number > 0/);
});
