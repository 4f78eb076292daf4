import type { Rng } from '@prunefuse/engine';
import type { BatchGeometry } from './dataset.js';

/** Zero padding on each side before the random crop back to the original size. */
export const CROP_PADDING = 4;

/**
 * One batch's draws of the crop-flip augmentation: per image, the crop's shift from
 * the centre in rows and columns (-CROP_PADDING..CROP_PADDING) and whether the crop is
 * mirrored. Drawn in image order, three draws an image (row, column, flip), so the
 * same rng state always augments the same batch the same way.
 */
export interface CropFlipDraw {
  shiftY: Int8Array;
  shiftX: Int8Array;
  flip: Uint8Array;
}

export function drawCropFlip(rng: Rng, count: number): CropFlipDraw {
  const shiftY = new Int8Array(count);
  const shiftX = new Int8Array(count);
  const flip = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    shiftY[i] = rng.int(0, 2 * CROP_PADDING) - CROP_PADDING;
    shiftX[i] = rng.int(0, 2 * CROP_PADDING) - CROP_PADDING;
    flip[i] = rng.uniform() < 0.5 ? 1 : 0;
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
