import { type BackendName, Rng, selectBackend, tf } from '@prunefuse/engine';
import { describe, expect, test } from 'vitest';
import { kCenterGreedy } from '../src/index.js';

/** SVP's k_center_greedy_slow: recompute every min distance from scratch for each pick. */
function bruteForce(pool: number[][], labelled: number[][], k: number): number[] {
  const centres = [...labelled];
  const picks: number[] = [];
  const squared = (a: number[], b: number[]) => a.reduce((s, v, d) => s + (v - b[d]!) ** 2, 0);
  for (let t = 0; t < k; t++) {
    let best = -1;
    let bestDistance = -1;
    pool.forEach((point, i) => {
      if (picks.includes(i)) return;
      const distance =
        centres.length === 0 ? Infinity : Math.min(...centres.map((c) => squared(point, c)));
      if (distance > bestDistance) {
        best = i;
        bestDistance = distance;
      }
    });
    picks.push(best);
    centres.push(pool[best]!);
  }
  return picks;
}

const flat = (rows: number[][]) => Float32Array.from(rows.flat());

// Small integer coordinates keep every distance exact in float32, so ties stay ties.
function integerPoints(rng: Rng, rows: number, dim: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: dim }, () => rng.int(-4, 4)));
}

describe.each<BackendName>(['cpu', 'wasm'])('kCenterGreedy on %s', (backend) => {
  test('picks the farthest point from the labelled set, then updates', async () => {
    await selectBackend(backend);
    const pool = [[0.5], [2], [10], [1]];
    expect(Array.from(await kCenterGreedy(flat(pool), flat([[0]]), 1, 4))).toEqual([2, 1, 3, 0]);
  });

  test('breaks ties by the lower position', async () => {
    await selectBackend(backend);
    // Positions 1 and 2 both lie at distance 3 from the labelled origin.
    expect(Array.from(await kCenterGreedy(flat([[1], [-3], [3]]), flat([[0]]), 1, 3))).toEqual([
      1, 2, 0,
    ]);
    expect(Array.from(await kCenterGreedy(flat([[1], [3], [-3]]), flat([[0]]), 1, 3))).toEqual([
      1, 2, 0,
    ]);
    // Equidistant in two dimensions: every point is 1 from the origin and no nearer to (0, 1).
    const square = flat([
      [0, 1],
      [-1, 0],
      [1, 0],
      [0, -1],
    ]);
    expect(Array.from(await kCenterGreedy(square, flat([[0, 0]]), 2, 4))).toEqual([0, 1, 2, 3]);
  });

  test('with nothing labelled starts from position 0', async () => {
    await selectBackend(backend);
    const pool = [[3], [0], [7], [1]];
    // After 3: 7 is 4 away, 0 is 3, 1 is 2; after 7 the nearer-centre distances stay 3 and 2.
    expect(Array.from(await kCenterGreedy(flat(pool), new Float32Array(0), 1, 4))).toEqual([
      0, 2, 1, 3,
    ]);
  });

  test('never picks a point twice, even among duplicates', async () => {
    await selectBackend(backend);
    const pool = [[5], [5], [9], [5]];
    expect(Array.from(await kCenterGreedy(flat(pool), flat([[5]]), 1, 4))).toEqual([2, 0, 1, 3]);
  });

  test('matches the brute-force reference on random inputs and any block size', async () => {
    await selectBackend(backend);
    const rng = new Rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const dim = rng.int(1, 6);
      const pool = integerPoints(rng, rng.int(5, 40), dim);
      const labelled = integerPoints(rng, rng.int(0, 9), dim);
      const k = rng.int(1, pool.length);
      const expected = bruteForce(pool, labelled, k);
      for (const batchSize of [1, 3, undefined]) {
        const picks = await kCenterGreedy(flat(pool), flat(labelled), dim, k, { batchSize });
        expect(Array.from(picks), `trial ${trial}, batchSize ${batchSize}`).toEqual(expected);
      }
    }
  });

  test('matches the brute-force reference on pools larger than the candidate list', async () => {
    await selectBackend(backend);
    const rng = new Rng(8);
    for (let trial = 0; trial < 4; trial++) {
      const dim = rng.int(2, 4);
      const pool = integerPoints(rng, rng.int(100, 250), dim);
      const labelled = integerPoints(rng, trial * 3, dim);
      const k = rng.int(80, pool.length);
      const picks = await kCenterGreedy(flat(pool), flat(labelled), dim, k, { batchSize: 7 });
      expect(Array.from(picks), `trial ${trial}`).toEqual(bruteForce(pool, labelled, k));
    }
  });

  test('leaves no tensors behind', async () => {
    await selectBackend(backend);
    const rng = new Rng(2);
    const pool = flat(integerPoints(rng, 50, 4));
    const labelled = flat(integerPoints(rng, 7, 4));
    await kCenterGreedy(pool, labelled, 4, 10, { batchSize: 2 });
    const before = tf.memory().numTensors;
    await kCenterGreedy(pool, labelled, 4, 10, { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('kCenterGreedy input checks', () => {
  test('refuses malformed embeddings and impossible k', async () => {
    await selectBackend('cpu');
    await expect(kCenterGreedy(new Float32Array(5), new Float32Array(0), 2, 1)).rejects.toThrow(
      /pool embeddings have 5 values, not a whole number of rows of 2/,
    );
    await expect(kCenterGreedy(new Float32Array(4), new Float32Array(3), 2, 1)).rejects.toThrow(
      /labelled/,
    );
    await expect(kCenterGreedy(new Float32Array(4), new Float32Array(0), 2, 3)).rejects.toThrow(
      /k must be an integer in 0..2/,
    );
    await expect(
      kCenterGreedy(new Float32Array([0, 1, Number.NaN, 0]), new Float32Array(0), 2, 1),
    ).rejects.toThrow(/pool embedding row 1 holds NaN at feature 0/);
    await expect(
      kCenterGreedy(new Float32Array(4), new Float32Array(0), 2, 1, { batchSize: 0 }),
    ).rejects.toThrow(/batchSize/);
  });

  test('k = 0 selects nothing', async () => {
    await selectBackend('cpu');
    expect(await kCenterGreedy(new Float32Array(4), new Float32Array(0), 2, 0)).toHaveLength(0);
  });
});
