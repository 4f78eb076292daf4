import { Rng, selectBackend } from '@prunefuse/engine';
import { describe, expect, test } from 'vitest';
import { acquire, randomSelection } from '../src/index.js';

// Three pool rows over 3 classes: row 1 is the least confident, row 2 has the smallest
// margin, row 0 the highest entropy.
const PROBABILITIES = Float32Array.from(
  [
    [0.5, 0.3, 0.2],
    [0.45, 0.1, 0.45],
    [0.55, 0.45, 0],
  ].flat(),
);

describe('acquire', () => {
  test('dispatches each uncertainty acquisition to its score', async () => {
    const input = { poolSize: 3, probabilities: PROBABILITIES, classes: 3 };
    const rng = new Rng(1);
    expect(Array.from(await acquire('least-confidence', input, 2, rng))).toEqual([1, 0]);
    expect(Array.from(await acquire('margin', input, 2, rng))).toEqual([1, 2]);
    expect(Array.from(await acquire('entropy', input, 1, rng))).toEqual([0]);
  });

  test('runs k-centers on the embeddings and random on the seed alone', async () => {
    await selectBackend('cpu');
    const embeddings = Float32Array.from([0, 10, 4, 1]);
    const input = { poolSize: 4, embeddings, labelledEmbeddings: Float32Array.from([0]), dim: 1 };
    expect(Array.from(await acquire('k-centers', input, 2, new Rng(1)))).toEqual([1, 2]);
    expect(Array.from(await acquire('random', { poolSize: 50 }, 5, new Rng(9)))).toEqual(
      Array.from(randomSelection(50, 5, new Rng(9))),
    );
  });

  test('names what an acquisition is missing or what does not fit the pool', async () => {
    const rng = new Rng(1);
    await expect(acquire('entropy', { poolSize: 3 }, 1, rng)).rejects.toThrow(
      /needs the pool's probabilities/,
    );
    await expect(acquire('k-centers', { poolSize: 3 }, 1, rng)).rejects.toThrow(
      /needs the pool's embeddings/,
    );
    await expect(
      acquire('margin', { poolSize: 4, probabilities: PROBABILITIES, classes: 3 }, 1, rng),
    ).rejects.toThrow(/probabilities hold 3 rows but poolSize is 4/);
    await expect(
      acquire('k-centers', { poolSize: 2, embeddings: new Float32Array(6), dim: 2 }, 1, rng),
    ).rejects.toThrow(/embeddings hold 6 values, not poolSize 2 rows of dim 2/);
  });
});
