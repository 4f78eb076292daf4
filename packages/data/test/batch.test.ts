import { Rng, selectBackend, tf } from '@prunefuse/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { drawAugmentation } from '../src/augmentation.js';
import {
  type Augmentation,
  type BatchGeometry,
  CROP_FLIP,
  epochBatches,
  makeBatch,
  orderedBatches,
  resolveAugmentation,
  type Split,
} from '../src/index.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const COLOUR: BatchGeometry = {
  shape: { height: 6, width: 5, channels: 3 },
  mean: [0.5, 0.25, 0.75],
  std: [0.2, 0.5, 0.1],
  augmentation: 'crop-flip',
};
const DIGITS: BatchGeometry = {
  shape: { height: 4, width: 4, channels: 1 },
  mean: [0.1],
  std: [0.3],
  augmentation: 'none',
};
/** Digit geometry declared crop-flip: shows ordered batches never augment. */
const COLOUR_AS_DIGITS: BatchGeometry = { ...DIGITS, augmentation: 'crop-flip' };

function randomSplit(geometry: BatchGeometry, size: number, seed: number): Split {
  const rng = new Rng(seed);
  const { height, width, channels } = geometry.shape;
  const images = Uint8Array.from({ length: size * height * width * channels }, () =>
    rng.int(0, 255),
  );
  return { images, labels: Int32Array.from({ length: size }, (_, i) => i % 7), size };
}

/**
 * The expected batch by tfjs ops, image by image: zero-pad by the translation, slice the
 * crop, mirror, normalise.
 */
function referenceBatch(
  split: Split,
  indices: number[],
  geometry: BatchGeometry,
  augmentation: { rng: Rng; with: Augmentation } | null,
): Float32Array {
  const { height: h, width: w, channels: c } = geometry.shape;
  const draw = augmentation
    ? drawAugmentation(augmentation.rng, indices.length, augmentation.with)
    : null;
  const pad = augmentation?.with.translate ?? 0;
  return tf.tidy(() => {
    const images = indices.map((index, i) => {
      let image: tf.Tensor3D = tf.tensor3d(
        split.images.slice(index * h * w * c, (index + 1) * h * w * c),
        [h, w, c],
        'float32',
      );
      if (draw) {
        const padded = tf.pad(image, [
          [pad, pad],
          [pad, pad],
          [0, 0],
        ]);
        image = tf.slice(padded, [pad + draw.shiftY[i]!, pad + draw.shiftX[i]!, 0], [h, w, c]);
        if (draw.flip[i]) image = tf.reverse(image, 1);
      }
      return image
        .div(255)
        .sub(tf.tensor1d(geometry.mean as number[]))
        .div(tf.tensor1d(geometry.std as number[]));
    });
    return tf.stack(images).dataSync() as Float32Array;
  });
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-5);
}

describe('makeBatch', () => {
  it('normalises gathered uint8 images per channel, labels as int32', () => {
    const split = randomSplit(COLOUR, 10, 1);
    const indices = [7, 2, 2, 9];
    const batch = makeBatch(split, indices, { dataset: COLOUR, augment: false });
    expect(batch.x.shape).toEqual([4, 6, 5, 3]);
    expect(batch.x.dtype).toBe('float32');
    expect(batch.y.dtype).toBe('int32');
    expect(Array.from(batch.y.dataSync())).toEqual(indices.map((i) => i % 7));
    expect(Array.from(batch.indices)).toEqual(indices);
    expectClose(batch.x.dataSync() as Float32Array, referenceBatch(split, indices, COLOUR, null));
    tf.dispose(batch);
  });

  it('crops from a 4-pixel zero padding and flips exactly as pad/slice/reverse do', () => {
    const split = randomSplit(COLOUR, 64, 2);
    const indices = Array.from({ length: 64 }, (_, i) => 63 - i);
    const batch = makeBatch(split, indices, { dataset: COLOUR, augment: true, rng: new Rng(5) });
    expectClose(
      batch.x.dataSync() as Float32Array,
      referenceBatch(split, indices, COLOUR, { rng: new Rng(5), with: CROP_FLIP }),
    );
    const plain = makeBatch(split, indices, { dataset: COLOUR, augment: false });
    expect(
      Buffer.from(batch.x.dataSync().buffer).equals(Buffer.from(plain.x.dataSync().buffer)),
    ).toBe(false);
    tf.dispose([batch, plain]);
  });

  it('translates by up to ±2 pixels without flipping, as pad 2/slice do, on any dataset', () => {
    const translate2 = { translate: 2, flip: false };
    const split = randomSplit(DIGITS, 32, 6);
    const indices = Array.from({ length: 32 }, (_, i) => i);
    const batch = makeBatch(split, indices, {
      dataset: DIGITS,
      augment: translate2,
      rng: new Rng(8),
    });
    expectClose(
      batch.x.dataSync() as Float32Array,
      referenceBatch(split, indices, DIGITS, { rng: new Rng(8), with: translate2 }),
    );
    const draw = drawAugmentation(new Rng(3), 4000, translate2);
    expect(new Set(draw.shiftY)).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(new Set(draw.shiftX)).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(draw.flip.every((f) => f === 0)).toBe(true);
    tf.dispose(batch);
  });

  it("resolves true to the dataset's own augmentation and checks an explicit one", () => {
    expect(resolveAugmentation(true, COLOUR)).toEqual({ translate: 4, flip: true });
    expect(resolveAugmentation(true, DIGITS)).toBeNull();
    expect(resolveAugmentation(false, COLOUR)).toBeNull();
    expect(resolveAugmentation({ translate: 2, flip: false }, DIGITS)).toEqual({
      translate: 2,
      flip: false,
    });
    expect(() => resolveAugmentation({ translate: 1.5, flip: false }, DIGITS)).toThrow(
      /augment.translate must be a whole number of pixels >= 0, got 1.5/,
    );
    expect(() => resolveAugmentation({ translate: 4, flip: false }, DIGITS)).toThrow(
      /would shift a 4x4 image out of view; at most 3/,
    );
  });

  it('draws every shift in -4..4 and flips about half the images', () => {
    const draw = drawAugmentation(new Rng(3), 4000, CROP_FLIP);
    expect(new Set(draw.shiftY)).toEqual(new Set([-4, -3, -2, -1, 0, 1, 2, 3, 4]));
    expect(new Set(draw.shiftX)).toEqual(new Set([-4, -3, -2, -1, 0, 1, 2, 3, 4]));
    const flips = draw.flip.reduce((a, b) => a + b, 0);
    expect(flips).toBeGreaterThan(1800);
    expect(flips).toBeLessThan(2200);
  });

  it('is deterministic given the rng, and leaves digits unaugmented', () => {
    const split = randomSplit(COLOUR, 20, 3);
    const a = makeBatch(split, [1, 2, 3], { dataset: COLOUR, augment: true, rng: new Rng(9) });
    const b = makeBatch(split, [1, 2, 3], { dataset: COLOUR, augment: true, rng: new Rng(9) });
    expect(Array.from(a.x.dataSync())).toEqual(Array.from(b.x.dataSync()));
    const digits = randomSplit(DIGITS, 5, 4);
    const augmented = makeBatch(digits, [0, 4], {
      dataset: DIGITS,
      augment: true,
      rng: new Rng(1),
    });
    expectClose(
      augmented.x.dataSync() as Float32Array,
      referenceBatch(digits, [0, 4], DIGITS, null),
    );
    tf.dispose([a, b, augmented]);
  });

  it('refuses an index outside the split, and augmentation without an rng', () => {
    const split = randomSplit(COLOUR, 5, 1);
    const before = tf.memory().numTensors;
    expect(() => makeBatch(split, [0, 5], { dataset: COLOUR, augment: false })).toThrow(
      "batch index 5 (position 1) is outside the split's 0..4",
    );
    expect(() => makeBatch(split, [2.5], { dataset: COLOUR, augment: false })).toThrow(
      'batch index 2.5 (position 0)',
    );
    expect(() => makeBatch(split, [0], { dataset: COLOUR, augment: true })).toThrow(
      'augment needs an rng',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('epochBatches and orderedBatches', () => {
  const split = randomSplit(DIGITS, 50, 6);
  const indices = Int32Array.from({ length: 23 }, (_, i) => 2 * i);

  it('covers every index once in a seeded order, keeping the last partial batch', () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const batch of epochBatches(split, indices, {
      batchSize: 5,
      rng: new Rng(1),
      augment: true,
      dataset: DIGITS,
    })) {
      sizes.push(batch.x.shape[0]);
      seen.push(...batch.indices);
      expect(Array.from(batch.y.dataSync())).toEqual(
        Array.from(batch.indices, (i) => split.labels[i]),
      );
      tf.dispose(batch);
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from(indices));
    expect(seen).not.toEqual(Array.from(indices));
    const again = [
      ...epochBatches(split, indices, {
        batchSize: 5,
        rng: new Rng(1),
        augment: true,
        dataset: DIGITS,
      }),
    ];
    expect(again.flatMap((b) => Array.from(b.indices))).toEqual(seen);
    const other = [
      ...epochBatches(split, indices, {
        batchSize: 5,
        rng: new Rng(2),
        augment: true,
        dataset: DIGITS,
      }),
    ];
    expect(other.flatMap((b) => Array.from(b.indices))).not.toEqual(seen);
    tf.dispose([...again, ...other]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('yields batches in the given order without augmentation', () => {
    const batches = [
      ...orderedBatches(split, indices, { batchSize: 10, dataset: COLOUR_AS_DIGITS }),
    ];
    expect(batches.map((b) => Array.from(b.indices))).toEqual([
      Array.from(indices.subarray(0, 10)),
      Array.from(indices.subarray(10, 20)),
      Array.from(indices.subarray(20)),
    ]);
    expectClose(
      batches[2]!.x.dataSync() as Float32Array,
      referenceBatch(split, [40, 42, 44], COLOUR_AS_DIGITS, null),
    );
    tf.dispose(batches);
  });

  it('refuses a batch size that is not a positive whole number', () => {
    expect(() => [...orderedBatches(split, indices, { batchSize: 0, dataset: DIGITS })]).toThrow(
      'batchSize 0',
    );
  });
});
