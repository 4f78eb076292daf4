import { type Rng, tf } from '@prunefuse/engine';
import {
  type AugmentSetting,
  drawAugmentation,
  normalisationTable,
  resolveAugmentation,
  writeImage,
} from './augmentation.js';
import type { BatchGeometry, Split } from './dataset.js';

/**
 * One batch on the active backend. The caller owns x and y and disposes them
 * (tf.dispose(batch) does both; a type alias rather than an interface, so that a
 * Batch is a tfjs TensorContainer).
 */
export type Batch = {
  /** [n, H, W, C] float32, normalised per channel with the dataset's mean/std. */
  x: tf.Tensor4D;
  /** [n] int32 class labels. */
  y: tf.Tensor1D;
  /** The split indices the batch holds, in batch order. */
  indices: Int32Array;
};

export interface BatchOptions {
  dataset: BatchGeometry;
  /** true: the dataset's augmentation (a no-op for 'none'); or an explicit one. Needs rng. */
  augment: AugmentSetting;
  rng?: Rng;
}

function checkIndex(split: Split, index: number, position: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= split.size) {
    throw new RangeError(
      `batch index ${index} (position ${position}) is outside the split's 0..${split.size - 1}`,
    );
  }
}

/**
 * Gathers `indices` of `split` into a normalised float batch. The uint8 images are
 * translated (cropped), flipped and normalised in one pass in JS (a table lookup per value) and
 * uploaded once. Measured on the 2-core dev machine, 128x32x32x3 with crop-flip: 6.8 ms a
 * batch this way against 488 ms on 'cpu' (119 ms on 'wasm') for uploading the bytes and
 * augmenting with tfjs ops, which need a per-image crop (pad + cropAndResize + where).
 */
export function makeBatch(split: Split, indices: ArrayLike<number>, options: BatchOptions): Batch {
  const { shape } = options.dataset;
  const n = indices.length;
  const imageValues = shape.height * shape.width * shape.channels;
  const table = normalisationTable(options.dataset);
  const out = new Float32Array(n * imageValues);
  const labels = new Int32Array(n);
  const batchIndices = Int32Array.from(indices);
  const augmentation = resolveAugmentation(options.augment, options.dataset);
  let draw = null;
  if (augmentation) {
    if (!options.rng) throw new Error('makeBatch: augment needs an rng');
    draw = drawAugmentation(options.rng, n, augmentation);
  }
  for (let i = 0; i < n; i++) {
    // Checked before Int32Array truncation could turn 2.5 into a valid 2.
    checkIndex(split, indices[i]!, i);
    const index = batchIndices[i]!;
    labels[i] = split.labels[index]!;
    const shiftY = draw ? draw.shiftY[i]! : 0;
    const shiftX = draw ? draw.shiftX[i]! : 0;
    const flip = draw ? draw.flip[i] === 1 : false;
    writeImage(split.images, index, shape, table, out, i * imageValues, shiftY, shiftX, flip);
  }
  return {
    x: tf.tensor4d(out, [n, shape.height, shape.width, shape.channels], 'float32'),
    y: tf.tensor1d(labels, 'int32'),
    indices: batchIndices,
  };
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize ${batchSize} is not a positive whole number`);
  }
}

export interface EpochOptions extends BatchOptions {
  batchSize: number;
  rng: Rng;
}

/**
 * One training epoch over `indices`: a permutation drawn from rng, then batches of
 * batchSize in that order, the last partial batch kept. Augmentation draws continue
 * from the same rng after the permutation, batch by batch.
 */
export function* epochBatches(
  split: Split,
  indices: ArrayLike<number>,
  options: EpochOptions,
): Generator<Batch, void, undefined> {
  checkBatchSize(options.batchSize);
  const order = options.rng.permutation(indices.length);
  const shuffled = Int32Array.from(order, (i) => indices[i]!);
  for (let start = 0; start < shuffled.length; start += options.batchSize) {
    yield makeBatch(split, shuffled.subarray(start, start + options.batchSize), options);
  }
}

/** Batches of `indices` in the given order, without augmentation: for evaluation and pool scoring. */
export function* orderedBatches(
  split: Split,
  indices: ArrayLike<number>,
  options: { batchSize: number; dataset: BatchGeometry },
): Generator<Batch, void, undefined> {
  checkBatchSize(options.batchSize);
  const all = Int32Array.from(indices);
  for (let start = 0; start < all.length; start += options.batchSize) {
    yield makeBatch(split, all.subarray(start, start + options.batchSize), {
      dataset: options.dataset,
      augment: false,
    });
  }
}
