import { tf } from '@prunefuse/engine';

export interface KCenterOptions {
  /**
   * Centres compared with the whole pool in one distance block (labelled embeddings while
   * the distances are initialised, then each batch of picks). Default: as many as keep a
   * block near 4M distances.
   */
  batchSize?: number;
}

const BLOCK_DISTANCES = 1 << 22;

/**
 * Points farthest from the centres that are tried as the next picks between two passes
 * over the pool. More candidates let more picks share one pass when they are far apart;
 * each costs a little JS bookkeeping per pick.
 */
const CANDIDATES = 128;

/**
 * Greedy k-centres (Sener & Savarese 2018) as SVP implements it: each pool point keeps its
 * distance to the nearest centre; the point farthest from every centre is picked, becomes
 * a centre, and the distances are updated. The centres start as the labelled embeddings;
 * with none labelled, the first pick is pool position 0. Ties go to the lower position.
 *
 * `pool` and `labelled` are row-major [rows, dim]. Returns k pool positions in pick order.
 *
 * Distances are squared Euclidean (same argmax as SVP's Euclidean ones), expanded as
 * |x|² + |c|² - 2 x·c with the pool on the active backend as one [n, dim + 1] tensor and the
 * centres compared in blocks of batchSize: never an n x n matrix.
 *
 * One pass over the pool per pick would be bound by memory traffic (the whole pool read
 * 5,000 times for a 5,000-point round). Instead the picks are made on the CANDIDATES
 * points farthest from the centres: the farthest is the next pick for certain; the
 * candidates' distances are lowered towards it in JS, and the best of them is also the
 * next pick for certain while it still beats the farthest point outside the candidates,
 * whose distance can only have fallen. Each run of such picks then costs one blocked
 * pass (on wasm, 50,000 x 64 selecting 5,000: ~2.5 s, against ~27 s for a pass per pick). The choice is the one-at-a-time greedy's, up to float32 rounding of distances.
 * Minimum distances, the exclusion of picked points and all argmaxes live in JS, which
 * gives exact lower-position tie-breaking on every backend.
 */
export async function kCenterGreedy(
  pool: Float32Array,
  labelled: Float32Array,
  dim: number,
  k: number,
  options: KCenterOptions = {},
): Promise<Int32Array> {
  const n = embeddingRows(pool, dim, 'pool');
  embeddingRows(labelled, dim, 'labelled');
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`k must be an integer in 0..${n} (the pool size), got ${k}`);
  }
  const batchSize = options.batchSize ?? Math.max(1, Math.floor(BLOCK_DISTANCES / n));
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const picks = new Int32Array(k);
  if (k === 0) return picks;

  const distances = new PoolDistances(pool, dim, batchSize);
  try {
    await distances.lowerTowards(labelled);
    let count = 0;
    while (count < k) {
      const batch = distances.nextPicks(k - count);
      picks.set(batch, count);
      count += batch.length;
      if (count < k) await distances.lowerTowards(distances.rows(batch));
    }
  } finally {
    distances.dispose();
  }
  return picks;
}

/** Each pool point's squared distance to its nearest centre, and which points are picked. */
class PoolDistances {
  private readonly n: number;
  private readonly poolNorms: Float64Array;
  private readonly nearest: Float64Array;
  private readonly picked: Uint8Array;
  /** [n, dim + 1]: each pool row followed by a 1, which picks up the centre's |c|². */
  private readonly poolOnes: tf.Tensor2D;

  constructor(
    private readonly pool: Float32Array,
    private readonly dim: number,
    private readonly batchSize: number,
  ) {
    this.n = pool.length / dim;
    this.poolNorms = squaredNorms(pool, dim);
    this.nearest = new Float64Array(this.n).fill(Number.POSITIVE_INFINITY);
    this.picked = new Uint8Array(this.n);
    const augmented = new Float32Array(this.n * (dim + 1));
    for (let i = 0; i < this.n; i++) {
      augmented.set(pool.subarray(i * dim, (i + 1) * dim), i * (dim + 1));
      augmented[i * (dim + 1) + dim] = 1;
    }
    this.poolOnes = tf.tensor2d(augmented, [this.n, dim + 1]);
  }

  /** Makes every row of `centres` ([rows, dim]) a centre. */
  async lowerTowards(centres: Float32Array): Promise<void> {
    const { dim, n } = this;
    const count = centres.length / dim;
    for (let start = 0; start < count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, count - start);
      // Column r is (-2 c_r, |c_r|²), so one product gives |c|² - 2 x·c for every pair, and
      // the [n, rows] layout reduces along its last axis, which tfjs does without a transpose.
      const columns = new Float32Array((dim + 1) * rows);
      for (let r = 0; r < rows; r++) {
        let norm = 0;
        for (let d = 0; d < dim; d++) {
          const v = centres[(start + r) * dim + d]!;
          columns[d * rows + r] = -2 * v;
          norm += v * v;
        }
        columns[dim * rows + r] = norm;
      }
      const partial = tf.tidy(() =>
        tf.min(tf.matMul(this.poolOnes, tf.tensor2d(columns, [dim + 1, rows])), 1),
      );
      let values: Float32Array;
      try {
        values = (await partial.data()) as Float32Array;
      } finally {
        partial.dispose();
      }
      // Adding |x|² here, in float64, rather than on the device.
      for (let i = 0; i < n; i++) {
        const distance = values[i]! + this.poolNorms[i]!;
        if (distance < this.nearest[i]!) this.nearest[i] = distance;
      }
    }
  }

  /** The next picks, at least one and at most `limit`, that greedy k-centres makes for certain. */
  nextPicks(limit: number): number[] {
    const ranked = this.farthestUnpicked(CANDIDATES + 1);
    const candidates = ranked.slice(0, CANDIDATES);
    // Every point outside the candidates is at most this far, ties at higher positions.
    const outside = ranked[CANDIDATES];
    const values = Float64Array.from(candidates, (i) => this.nearest[i]!);
    const chosen: number[] = [];
    while (chosen.length < limit) {
      let best = -1;
      for (let c = 0; c < candidates.length; c++) {
        if (values[c] === Number.NEGATIVE_INFINITY) continue;
        if (best < 0 || farther(values[c]!, candidates[c]!, values[best]!, candidates[best]!))
          best = c;
      }
      if (best < 0) break;
      const position = candidates[best]!;
      if (
        outside !== undefined &&
        !farther(values[best]!, position, this.nearest[outside]!, outside)
      )
        break;
      chosen.push(position);
      this.picked[position] = 1;
      values[best] = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < candidates.length; c++) {
        if (values[c] === Number.NEGATIVE_INFINITY) continue;
        values[c] = Math.min(values[c]!, this.squaredDistance(candidates[c]!, position));
      }
    }
    return chosen;
  }

  /** Rows of the pool at `positions`, row-major. */
  rows(positions: readonly number[]): Float32Array {
    const { dim } = this;
    const out = new Float32Array(positions.length * dim);
    positions.forEach((p, r) => {
      out.set(this.pool.subarray(p * dim, (p + 1) * dim), r * dim);
    });
    return out;
  }

  dispose(): void {
    this.poolOnes.dispose();
  }

  /** Up to `count` unpicked positions, farthest first, ties by the lower position. */
  private farthestUnpicked(count: number): number[] {
    const best: number[] = [];
    for (let i = 0; i < this.n; i++) {
      if (this.picked[i] === 1) continue;
      const value = this.nearest[i]!;
      // Scanning in position order, a later point must be strictly farther to rank above.
      if (best.length === count && value <= this.nearest[best[count - 1]!]!) continue;
      let slot = best.length === count ? count - 1 : best.length;
      while (slot > 0 && value > this.nearest[best[slot - 1]!]!) {
        best[slot] = best[slot - 1]!;
        slot--;
      }
      best[slot] = i;
    }
    return best;
  }

  private squaredDistance(a: number, b: number): number {
    const { pool, dim } = this;
    let sum = 0;
    for (let d = 0; d < dim; d++) {
      const delta = pool[a * dim + d]! - pool[b * dim + d]!;
      sum += delta * delta;
    }
    return sum;
  }
}

/** Whether a point at `distance`, `position` ranks before one at `otherDistance`, `otherPosition`. */
function farther(
  distance: number,
  position: number,
  otherDistance: number,
  otherPosition: number,
): boolean {
  return distance > otherDistance || (distance === otherDistance && position < otherPosition);
}

function embeddingRows(values: Float32Array, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
  }
  if (values.length % dim !== 0) {
    throw new RangeError(
      `${what} embeddings have ${values.length} values, not a whole number of rows of ${dim}`,
    );
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new RangeError(
      `${what} embedding row ${Math.floor(bad / dim)} holds ${values[bad]} at feature ${bad % dim}; ` +
        'the model that produced the features is not finite (did its training diverge?)',
    );
  }
  return values.length / dim;
}

function squaredNorms(values: Float32Array, dim: number): Float64Array {
  const norms = new Float64Array(values.length / dim);
  for (let row = 0; row < norms.length; row++) {
    let sum = 0;
    for (let d = row * dim; d < (row + 1) * dim; d++) sum += values[d]! * values[d]!;
    norms[row] = sum;
  }
  return norms;
}
