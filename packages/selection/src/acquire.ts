import type { Rng } from '@prunefuse/engine';
import type { AcquisitionName } from '@prunefuse/results';
import { kCenterGreedy } from './k-center-greedy.js';
import { randomSelection } from './random-selection.js';
import { topK } from './top-k.js';
import { entropy, leastConfidence, margin } from './uncertainty.js';

/** What the pool offers an acquisition function; each function reads only what it needs. */
export interface AcquisitionInput {
  /** Number of unlabelled pool points; positions returned index 0..poolSize-1. */
  poolSize: number;
  /** Row-major [poolSize, classes] class probabilities (uncertainty acquisitions). */
  probabilities?: Float32Array;
  classes?: number;
  /** Row-major [poolSize, dim] penultimate features of the pool (k-centers). */
  embeddings?: Float32Array;
  /** Row-major [labelled, dim] features of the labelled set (k-centers; may be empty). */
  labelledEmbeddings?: Float32Array;
  dim?: number;
}

const UNCERTAINTY = {
  'least-confidence': leastConfidence,
  entropy,
  margin,
} as const;

/** The k pool positions `name` selects, in selection order. */
export async function acquire(
  name: AcquisitionName,
  input: AcquisitionInput,
  k: number,
  rng: Rng,
): Promise<Int32Array> {
  switch (name) {
    case 'least-confidence':
    case 'entropy':
    case 'margin': {
      const { probabilities, classes } = input;
      if (!probabilities || classes === undefined) {
        throw new Error(`acquisition '${name}' needs the pool's probabilities and classes`);
      }
      const scores = UNCERTAINTY[name](probabilities, classes);
      if (scores.length !== input.poolSize) {
        throw new RangeError(
          `acquisition '${name}': probabilities hold ${scores.length} rows but poolSize is ${input.poolSize}`,
        );
      }
      return topK(scores, k);
    }
    case 'k-centers': {
      const { embeddings, labelledEmbeddings, dim } = input;
      if (!embeddings || dim === undefined) {
        throw new Error(`acquisition 'k-centers' needs the pool's embeddings and dim`);
      }
      if (embeddings.length !== input.poolSize * dim) {
        throw new RangeError(
          `acquisition 'k-centers': embeddings hold ${embeddings.length} values, not poolSize ${input.poolSize} rows of dim ${dim}`,
        );
      }
      return kCenterGreedy(embeddings, labelledEmbeddings ?? new Float32Array(0), dim, k);
    }
    case 'random':
      return randomSelection(input.poolSize, k, rng);
  }
}
