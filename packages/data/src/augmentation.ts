import type { Rng } from '@prunefuse/engine';
import type { BatchGeometry } from './dataset.js';

/**
 * A random translation of every image by up to ±translate pixels along each axis, the
 * uncovered border zero-filled (the same as a random crop of the image zero-padded by
 * `translate`), then, when `flip`, a horizontal mirror of about half the images.
 */
export interface Augmentation {
  translate: number;
  flip: boolean;
}

/** Zero padding on each side before the random crop back to the original size. */
export const CROP_PADDING = 4;

/** The CIFAR / Tiny-ImageNet recipe of the SVP code: 4-pixel padded random crop, random flip. */
export const CROP_FLIP: Augmentation = { translate: CROP_PADDING, flip: true };

/**
 * What a run asks for: true, the dataset's own augmentation (crop-flip for colour images,
 * none for digits, where a flip changes the class); false, none; or an explicit one.
 */
export type AugmentSetting = boolean | Augmentation;

/** The augmentation `setting` means for `dataset`; null for none. */
export function resolveAugmentation(
  setting: AugmentSetting,
  { shape, augmentation }: Pick<BatchGeometry, 'shape' | 'augmentation'>,
): Augmentation | null {
  if (setting === false) return null;
  if (setting === true) return augmentation === 'crop-flip' ? CROP_FLIP : null;
  const largest = Math.min(shape.height, shape.width) - 1;
  if (!(Number.isInteger(setting.translate) && setting.translate >= 0)) {
    throw new RangeError(
      `augment.translate must be a whole number of pixels >= 0, got ${setting.translate}`,
    );
  }
  if (setting.translate > largest) {
    throw new RangeError(
      `augment.translate ${setting.translate} would shift a ${shape.height}x${shape.width} image out of view; at most ${largest}`,
    );
  }
  return setting;
}

/**
 * One batch's draws of an augmentation: per image, the shift in rows and columns
 * (-translate..translate) and whether the image is mirrored. Drawn in image order, row
 * then column then (with flips) the flip, so the same rng state always augments the same
 * batch the same way, and crop-flip draws exactly what it always has.
 */
export interface AugmentationDraw {
  shiftY: Int8Array;
  shiftX: Int8Array;
  flip: Uint8Array;
}

export function drawAugmentation(
  rng: Rng,
  count: number,
  { translate, flip: flips }: Augmentation,
): AugmentationDraw {
  const shiftY = new Int8Array(count);
  const shiftX = new Int8Array(count);
  const flip = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    shiftY[i] = rng.int(0, 2 * translate) - translate;
    shiftX[i] = rng.int(0, 2 * translate) - translate;
    if (flips) flip[i] = rng.uniform() < 0.5 ? 1 : 0;
  }
  return { shiftY, shiftX, flip };
}

/**
 * Byte value -> normalised float, per channel: (v/255 - mean[c]) / std[c] at
 * table[c*256 + v]. One lookup replaces a divide, a subtract and a divide per value.
 */
export function normalisationTable({ shape, mean, std }: BatchGeometry): Float32Array {
  const table = new Float32Array(shape.channels * 256);
  for (let c = 0; c < shape.channels; c++) {
    const m = mean[c] ?? 0;
    const s = std[c] || 1;
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - m) / s;
  }
  return table;
}

/**
 * Writes image `from` of `images`, normalised, into `out` at `at`. With a draw, output
 * pixel (y, x) is the padded image's (y + shiftY, x' + shiftX) with x' = W-1-x when
 * flipped (crop first, then mirror the crop, as torchvision's RandomCrop +
 * RandomHorizontalFlip); padding reads as byte 0, as zero padding before normalising.
 */
export function writeImage(
  images: Uint8Array,
  from: number,
  { height, width, channels }: BatchGeometry['shape'],
  table: Float32Array,
  out: Float32Array,
  at: number,
  shiftY: number,
  shiftX: number,
  flip: boolean,
): void {
  const base = from * height * width * channels;
  if (shiftY === 0 && shiftX === 0 && !flip) {
    const bytes = height * width * channels;
    for (let p = 0; p < bytes; p += channels) {
      for (let c = 0; c < channels; c++) out[at + p + c] = table[c * 256 + images[base + p + c]!]!;
    }
    return;
  }
  let o = at;
  for (let y = 0; y < height; y++) {
    const sy = y + shiftY;
    const rowInside = sy >= 0 && sy < height;
    for (let x = 0; x < width; x++) {
      const sx = (flip ? width - 1 - x : x) + shiftX;
      if (rowInside && sx >= 0 && sx < width) {
        const s = base + (sy * width + sx) * channels;
        for (let c = 0; c < channels; c++) out[o + c] = table[c * 256 + images[s + c]!]!;
      } else {
        for (let c = 0; c < channels; c++) out[o + c] = table[c * 256]!;
      }
      o += channels;
    }
  }
}
