import { deriveSeed, Rng } from '@prunefuse/engine';
import type { DatasetName, Split } from './dataset.js';

export type SplitName = 'train' | 'test';

/**
 * Which examples of a split a run keeps, given the split's full size: the indices in the
 * order they will have, or null for all of them in file order. Readers call it before
 * decoding, so a small run of a JPEG dataset decodes only what it keeps.
 */
export type SubsetChooser = (split: SplitName, size: number) => Int32Array | null;

/**
 * A subset of N is the first N of a permutation of the split seeded by (seed, dataset,
 * split), kept in permutation order: a small run is still class-mixed, and the subset
 * of N is a prefix of the subset of M > N under the same seed.
 */
export function seededSubsetChooser(
  name: DatasetName,
  seed: number,
  subsets: Readonly<Record<SplitName, number | null | undefined>>,
): SubsetChooser {
  return (split, size) => {
    const count = subsets[split];
    if (count === null || count === undefined) return null;
    const option = `${split}Subset`;
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`${option}: ${count} is not a positive whole number of examples`);
    }
    if (count > size) {
      throw new Error(`${option}: ${count} exceeds the ${size} ${split} examples of ${name}`);
    }
    return new Rng(deriveSeed(seed, 'data', name, split, 'subset'))
      .permutation(size)
      .subarray(0, count);
  };
}

/** A new split holding `indices` of `split`, in that order. */
export function takeExamples(split: Split, indices: Int32Array): Split {
  const bytes = split.size === 0 ? 0 : split.images.length / split.size;
  const images = new Uint8Array(indices.length * bytes);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i]!;
    images.set(split.images.subarray(from * bytes, (from + 1) * bytes), i * bytes);
    labels[i] = split.labels[from]!;
  }
  return { images, labels, size: indices.length };
}

/** `split` narrowed by the chooser's answer for it. */
export function chooseExamples(split: Split, name: SplitName, choose: SubsetChooser): Split {
  const indices = choose(name, split.size);
  return indices === null ? split : takeExamples(split, indices);
}
