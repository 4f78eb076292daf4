import type { Rng } from '@prunefuse/engine';

/**
 * The labelled / unlabelled bookkeeping over a training split of `size` examples.
 * Labelling is all-or-nothing: a call with any bad index labels nothing.
 */
export class LabelledPool {
  private readonly mask: Uint8Array;
  private count = 0;

  constructor(
    readonly size: number,
    initial: ArrayLike<number> = [],
  ) {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`pool size ${size} is not a whole number`);
    }
    this.mask = new Uint8Array(size);
    this.label(initial);
  }

  get labelledCount(): number {
    return this.count;
  }

  get unlabelledCount(): number {
    return this.size - this.count;
  }

  isLabelled(index: number): boolean {
    return this.mask[index] === 1;
  }

  /** Labelled indices, ascending. */
  labelled(): Int32Array {
    return this.collect(1, this.count);
  }

  /** Unlabelled indices, ascending. */
  unlabelled(): Int32Array {
    return this.collect(0, this.size - this.count);
  }

  /** Marks `indices` labelled; throws naming the first index that is out of range, repeated or already labelled. */
  label(indices: ArrayLike<number>): void {
    const fresh = new Set<number>();
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]!;
      if (!Number.isInteger(index) || index < 0 || index >= this.size) {
        throw new RangeError(
          `cannot label index ${index} (position ${i}): outside the pool's 0..${this.size - 1}`,
        );
      }
      if (this.mask[index] === 1) {
        throw new Error(`cannot label index ${index} (position ${i}): it is already labelled`);
      }
      if (fresh.has(index)) {
        throw new Error(
          `cannot label index ${index} (position ${i}): it appears twice in this call`,
        );
      }
      fresh.add(index);
    }
    for (const index of fresh) this.mask[index] = 1;
    this.count += fresh.size;
  }

  private collect(state: 0 | 1, count: number): Int32Array {
    const out = new Int32Array(count);
    let at = 0;
    for (let i = 0; i < this.size; i++) if (this.mask[i] === state) out[at++] = i;
    return out;
  }
}

/**
 * The initial labelled set s0: `count` indices drawn by rng, ascending. Class-balanced
 * draws give every class present in `labels` floor(count/classes) (the remainder going
 * to classes chosen by rng); a class too small for its share gives all it has and the
 * rest is spread over the others.
 */
export function initialLabelledSet(
  labels: Int32Array,
  count: number,
  rng: Rng,
  { classBalanced }: { classBalanced: boolean },
): Int32Array {
  if (!Number.isInteger(count) || count < 0 || count > labels.length) {
    throw new RangeError(
      `initial labelled set of ${count} is not a whole number in 0..${labels.length} (the training split)`,
    );
  }
  if (!classBalanced) return rng.permutation(labels.length).slice(0, count).sort();
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!);
    if (members) members.push(i);
    else byClass.set(labels[i]!, [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const pools = new Map(classes.map((c) => [c, rng.shuffled(byClass.get(c)!)]));
  const taken = new Map(classes.map((c) => [c, 0]));
  let remaining = count;
  let open = classes.slice();
  while (remaining > 0) {
    const share = Math.floor(remaining / open.length);
    const extra = new Set(rng.shuffled(open).slice(0, remaining % open.length));
    for (const c of open) {
      const room = pools.get(c)!.length - taken.get(c)!;
      const take = Math.min(room, share + (extra.has(c) ? 1 : 0));
      taken.set(c, taken.get(c)! + take);
      remaining -= take;
    }
    open = open.filter((c) => taken.get(c)! < pools.get(c)!.length);
  }
  const chosen = classes.flatMap((c) => pools.get(c)!.slice(0, taken.get(c)!));
  return Int32Array.from(chosen).sort();
}
