import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from '../src/index.js';

const draw = (rng: Rng) => [rng.uniform(), rng.normal(), rng.int(0, 9), ...rng.permutation(6)];

describe('seeded randomness', () => {
  it('repeats exactly for the same seed', () => {
    expect(draw(new Rng(7))).toEqual(draw(new Rng(7)));
    expect(new Rng(7).shuffled(['a', 'b', 'c', 'd', 'e'])).toEqual(
      new Rng(7).shuffled(['a', 'b', 'c', 'd', 'e']),
    );
  });

  it('differs between seeds and between named child streams', () => {
    expect(draw(new Rng(7))).not.toEqual(draw(new Rng(8)));
    const root = new Rng(7);
    expect(draw(root.child('init'))).not.toEqual(draw(root.child('shuffle')));
    expect(draw(root.child('init'))).toEqual(draw(new Rng(7).child('init')));
  });

  it('derives seeds from labels independently of the order streams are created', () => {
    const a = deriveSeed(1, 'pool', 3);
    expect(deriveSeed(1, 'init')).toBe(deriveSeed(1, 'init'));
    expect(deriveSeed(1, 'pool', 3)).toBe(a);
    expect(deriveSeed(1, 'pool', 4)).not.toBe(a);
    expect(deriveSeed(2, 'pool', 3)).not.toBe(a);
    expect(Number.isInteger(a) && a >= -(2 ** 31) && a < 2 ** 31).toBe(true);
  });

  it('draws from the right distributions', () => {
    const rng = new Rng(3);
    const n = 20_000;
    let sum = 0;
    let squares = 0;
    let low = 0;
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      squares += z * z;
      if (rng.uniform() < 0.25) low++;
      counts[rng.int(0, 4)]!++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.05);
    expect(Math.abs(low / n - 0.25)).toBeLessThan(0.02);
    for (const c of counts) expect(Math.abs(c / n - 0.2)).toBeLessThan(0.02);
    expect([...rng.permutation(50)].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });
});
