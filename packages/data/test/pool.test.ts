import { Rng } from '@prunefuse/engine';
import { describe, expect, it } from 'vitest';
import { initialLabelledSet, LabelledPool, resolveBudget } from '../src/index.js';

describe('LabelledPool', () => {
  it('tracks labelled and unlabelled indices, both ascending', () => {
    const pool = new LabelledPool(10, [7, 2]);
    expect(pool.size).toBe(10);
    expect(pool.labelledCount).toBe(2);
    pool.label([9, 0, 5]);
    expect(Array.from(pool.labelled())).toEqual([0, 2, 5, 7, 9]);
    expect(Array.from(pool.unlabelled())).toEqual([1, 3, 4, 6, 8]);
    expect(pool.labelledCount).toBe(5);
    expect(pool.unlabelledCount).toBe(5);
    expect(pool.isLabelled(5)).toBe(true);
    expect(pool.isLabelled(6)).toBe(false);
  });

  it('refuses duplicates, already-labelled and unknown indices, labelling nothing', () => {
    const pool = new LabelledPool(10, [3]);
    expect(() => pool.label([1, 4, 1])).toThrow(
      'cannot label index 1 (position 2): it appears twice in this call',
    );
    expect(() => pool.label([4, 3])).toThrow(
      'cannot label index 3 (position 1): it is already labelled',
    );
    expect(() => pool.label([4, 10])).toThrow(
      "cannot label index 10 (position 1): outside the pool's 0..9",
    );
    expect(() => pool.label([-1])).toThrow('cannot label index -1 (position 0)');
    expect(() => pool.label([2.5])).toThrow('cannot label index 2.5 (position 0)');
    expect(Array.from(pool.labelled())).toEqual([3]);
  });
});

describe('initialLabelledSet', () => {
  // 6 classes of unequal size: class c has 10 * (c + 1) examples, except class 5 with 2.
  const labels = Int32Array.from(
    [0, 1, 2, 3, 4, 5].flatMap((c) => new Array(c === 5 ? 2 : 10 * (c + 1)).fill(c)),
  );
  const perClass = (set: Int32Array) => {
    const counts = new Array(6).fill(0);
    for (const i of set) counts[labels[i]!]++;
    return counts;
  };

  it('draws a seeded, ascending set of distinct indices', () => {
    const a = initialLabelledSet(labels, 30, new Rng(1), { classBalanced: false });
    const b = initialLabelledSet(labels, 30, new Rng(1), { classBalanced: false });
    const c = initialLabelledSet(labels, 30, new Rng(2), { classBalanced: false });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(new Set(a).size).toBe(30);
    expect(Array.from(a)).toEqual([...a].sort((x, y) => x - y));
  });

  it('class-balanced: equal shares, the remainder to random classes, small classes give all they have', () => {
    const even = initialLabelledSet(labels, 24, new Rng(1), { classBalanced: true });
    // 24 over 6 classes is 4 each, but class 5 has 2: its 2 missing go to two others.
    const counts = perClass(even);
    expect(counts[5]).toBe(2);
    expect(counts.slice(0, 5).sort()).toEqual([4, 4, 4, 5, 5]);
    expect(new Set(even).size).toBe(24);
    const odd = perClass(initialLabelledSet(labels, 13, new Rng(3), { classBalanced: true }));
    expect(odd.reduce((a, b) => a + b, 0)).toBe(13);
    expect(Math.max(...odd) - Math.min(...odd)).toBeLessThanOrEqual(1);
  });

  it('refuses more than the split holds', () => {
    expect(() =>
      initialLabelledSet(labels, labels.length + 1, new Rng(1), { classBalanced: true }),
    ).toThrow(
      `initial labelled set of ${labels.length + 1} is not a whole number in 0..${labels.length}`,
    );
  });
});

describe('resolveBudget', () => {
  it('reads counts, fractions and percentages of the training set', () => {
    expect(resolveBudget(1000, 50_000)).toBe(1000);
    expect(resolveBudget('1000', 50_000)).toBe(1000);
    expect(resolveBudget(0.1, 50_000)).toBe(5000);
    expect(resolveBudget('0.1', 50_000)).toBe(5000);
    expect(resolveBudget('10%', 50_000)).toBe(5000);
    expect(resolveBudget(' 12.5% ', 1000)).toBe(125);
    expect(resolveBudget('100%', 1000)).toBe(1000);
    expect(resolveBudget(1, 1000)).toBe(1);
  });

  it('says what is wrong with a bad budget', () => {
    expect(() => resolveBudget(60_000, 50_000)).toThrow(
      'budget 60000: 60000 exceeds the 50000-example training split',
    );
    expect(() => resolveBudget('150%', 100)).toThrow(
      "budget '150%': a percentage must be above 0 and at most 100",
    );
    expect(() => resolveBudget('%', 100)).toThrow("budget '%': expected a number before '%'");
    expect(() => resolveBudget('ten', 100)).toThrow(
      "budget 'ten': expected a count (1000), a fraction (0.1)",
    );
    expect(() => resolveBudget(0, 100)).toThrow('budget 0: must be positive');
    expect(() => resolveBudget(-5, 100)).toThrow('must be positive');
    expect(() => resolveBudget(2.5, 100)).toThrow('a count must be a whole number');
    expect(() => resolveBudget(0.001, 100)).toThrow(
      'is less than one example of the 100-example training split',
    );
    expect(() => resolveBudget('', 100)).toThrow("budget '': expected a count");
  });
});
