import { describe, expect, test } from 'vitest';
import { entropy, leastConfidence, margin } from '../src/index.js';

// Rows: confident-ish, top-two tie, one-hot, uniform.
const PROBABILITIES = Float32Array.from(
  [
    [0.7, 0.2, 0.1, 0],
    [0.4, 0.4, 0.2, 0],
    [1, 0, 0, 0],
    [0.25, 0.25, 0.25, 0.25],
  ].flat(),
);

describe('uncertainty scores', () => {
  test('least confidence is 1 - max p', () => {
    expect(Array.from(leastConfidence(PROBABILITIES, 4))).toEqual(
      [0.3, 0.6, 0, 0.75].map((v) => expect.closeTo(v, 6)),
    );
  });

  test('entropy is -sum p ln p with 0 ln 0 = 0', () => {
    const expected = [
      -(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)),
      -(2 * 0.4 * Math.log(0.4) + 0.2 * Math.log(0.2)),
      0,
      Math.log(4),
    ];
    expect(Array.from(entropy(PROBABILITIES, 4))).toEqual(
      expected.map((v) => expect.closeTo(v, 6)),
    );
  });

  test('margin is 1 - (p1 - p2), 1 when the top two tie', () => {
    expect(Array.from(margin(PROBABILITIES, 4))).toEqual(
      [0.5, 1, 0, 1].map((v) => expect.closeTo(v, 6)),
    );
  });

  test('a tie for the top probability is found wherever it sits in the row', () => {
    const probabilities = new Float32Array([0.1, 0.45, 0.45, 0, 0.45, 0.1, 0, 0.45]);
    expect(Array.from(margin(probabilities, 4))).toEqual([1, 1]);
    expect(Array.from(leastConfidence(probabilities, 4))).toEqual(
      [0.55, 0.55].map((v) => expect.closeTo(v, 6)),
    );
  });

  test('every score ranks the more uncertain row higher', () => {
    const sure = [0.9, 0.05, 0.05];
    const unsure = [0.4, 0.35, 0.25];
    const probabilities = new Float32Array([...sure, ...unsure]);
    for (const score of [leastConfidence, entropy, margin]) {
      const [a, b] = score(probabilities, 3);
      expect(b!).toBeGreaterThan(a!);
    }
  });

  test('malformed input is refused with what is wrong', () => {
    expect(() => leastConfidence(new Float32Array(5), 2)).toThrow(
      /5 values, not a whole number of rows of 2/,
    );
    expect(() => entropy(new Float32Array([0.5, Number.NaN]), 2)).toThrow(/row 0 class 1 is NaN/);
    expect(() => margin(new Float32Array([1]), 1)).toThrow(/classes must be an integer >= 2/);
    expect(() => leastConfidence(new Float32Array(4), 0)).toThrow(/classes/);
  });

  test('an empty pool gives no scores', () => {
    expect(leastConfidence(new Float32Array(0), 10)).toHaveLength(0);
  });
});
