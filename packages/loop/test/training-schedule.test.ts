import { describe, expect, test } from 'vitest';
import { learningRateAt } from '../src/index.js';

/** Lengths of the runs of equal learning rates, with each run's rate. */
function segments(totalEpochs: number, peak = 0.1): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let epoch = 0; epoch < totalEpochs; epoch++) {
    const lr = learningRateAt('svp-step', { epoch, step: 0, epochs: totalEpochs }, peak);
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
    expect(learningRateAt('cosine', { epoch: 0, step: 0, epochs: 4 }, 0.2)).toBeCloseTo(0.2, 12);
    expect(learningRateAt('cosine', { epoch: 1, step: 0, epochs: 4 }, 0.2)).toBeCloseTo(
      0.1 * (1 + Math.SQRT1_2),
      12,
    );
    expect(learningRateAt('cosine', { epoch: 2, step: 0, epochs: 4 }, 0.2)).toBeCloseTo(0.1, 12);
    expect(learningRateAt('cosine', { epoch: 3, step: 0, epochs: 4 }, 0.2)).toBeCloseTo(
      0.1 * (1 - Math.SQRT1_2),
      12,
    );
  });

  test('constant is the peak throughout', () => {
    expect(
      [0, 5, 9].map((e) => learningRateAt('constant', { epoch: e, step: 0, epochs: 10 }, 0.05)),
    ).toEqual([0.05, 0.05, 0.05]);
  });
});

describe('one-cycle', () => {
  const at = (epoch: number, step: number) =>
    learningRateAt('one-cycle', { epoch, step, epochs: 15, stepsPerEpoch: 8 }, 0.1);

  test('is torch OneCycleLR (pct_start 0.15, cos, div 25, final div 1e4), stepped per step', () => {
    // torch 1.13: OneCycleLR(SGD(lr=0.1), max_lr=0.1, total_steps=120, pct_start=0.15,
    // anneal_strategy='cos', div_factor=25, final_div_factor=1e4), the rate before each step.
    const torch: Array<[number, number]> = [
      [0, 0.0040000000000000036],
      [1, 0.004817291215172714],
      [9, 0.0564288812542385],
      [17, 0.1],
      [18, 0.09997628608052436],
      [60, 0.06219583722267484],
      [119, 4e-7],
    ];
    for (const [step, rate] of torch) {
      expect(at(Math.floor(step / 8), step % 8), `step ${step}`).toBeCloseTo(rate, 15);
    }
    const short = [0, 1, 2].map((step) =>
      learningRateAt('one-cycle', { epoch: step, step: 0, epochs: 3, stepsPerEpoch: 1 }, 0.2),
    );
    expect(short).toEqual(
      [0.17790814582033723, 0.06676505299395381, 8e-7].map((v) => expect.closeTo(v, 15)),
    );
  });

  test('climbs to the peak at 15% of the steps, then only falls', () => {
    const rates = Array.from({ length: 120 }, (_, i) => at(Math.floor(i / 8), i % 8));
    const peak = rates.indexOf(Math.max(...rates));
    expect(peak).toBe(0.15 * 120 - 1);
    for (let i = 1; i < 120; i++) {
      if (i <= peak) expect(rates[i]!).toBeGreaterThan(rates[i - 1]!);
      else expect(rates[i]!).toBeLessThan(rates[i - 1]!);
    }
  });

  test('needs the steps per epoch, and a step inside the epoch', () => {
    expect(() => learningRateAt('one-cycle', { epoch: 0, step: 0, epochs: 2 }, 0.1)).toThrow(
      /'one-cycle' sets the rate per step: it needs stepsPerEpoch/,
    );
    expect(() => at(0, 8)).toThrow(/step must be an integer in 0..7, got 8/);
  });
});

test('refuses epochs outside the run and rates that are not positive', () => {
  expect(() => learningRateAt('svp-step', { epoch: 10, step: 0, epochs: 10 }, 0.1)).toThrow(
    /epoch must be an integer in 0..9/,
  );
  expect(() => learningRateAt('cosine', { epoch: 0, step: 0, epochs: 0 }, 0.1)).toThrow(
    /epochs must be a positive integer/,
  );
  expect(() => learningRateAt('constant', { epoch: 0, step: 0, epochs: 1 }, 0)).toThrow(
    /finite number > 0/,
  );
});
