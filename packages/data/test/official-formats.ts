/**
 * Writers of small files in the exact official formats, so loader tests read the same
 * bytes the real datasets hold. Pixel values follow `pixelValue`, a formula the tests
 * can evaluate independently of any loader code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';

/** The byte a test image holds at (image, y, x, channel). */
export function pixelValue(image: number, y: number, x: number, c: number): number {
  return (image * 37 + y * 5 + x * 3 + c * 71) & 255;
}

export function temporaryDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-data-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * CIFAR binary records: label byte(s), then the 32x32 image as red, green and blue
 * planes, rows top to bottom. `firstImage` offsets pixelValue's image number.
 */
export function cifarRecords(labels: ReadonlyArray<readonly number[]>, firstImage = 0): Uint8Array {
  const labelBytes = labels[0]?.length ?? 1;
  const record = labelBytes + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((label, r) => {
    out.set(label, r * record);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[r * record + labelBytes + c * 1024 + y * 32 + x] = pixelValue(
            firstImage + r,
            y,
            x,
            c,
          );
        }
      }
    }
  });
  return out;
}

/** An IDX file: magic 0x00000803 (images, N x rows x cols) or 0x00000801 (labels, N), big-endian sizes. */
export function idxFile(
  magic: 2051 | 2049,
  sizes: readonly number[],
  values: Uint8Array,
): Uint8Array {
  const header = Buffer.alloc(4 + 4 * sizes.length);
  header.writeInt32BE(magic, 0);
  sizes.forEach((size, i) => {
    header.writeUInt32BE(size, 4 + 4 * i);
  });
  return Buffer.concat([header, values]);
}

export function idxImages(count: number, rows = 28, cols = 28): Uint8Array {
  const values = new Uint8Array(count * rows * cols);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) values[(i * rows + y) * cols + x] = pixelValue(i, y, x, 0);
    }
  }
  return idxFile(2051, [count, rows, cols], values);
}

export function writeGzip(file: string, bytes: Uint8Array): void {
  writeFileSync(file, gzipSync(bytes));
}

const jpegs = new Map<string, Buffer>();

/**
 * A 64x64 JPEG of one flat colour: flat 8x8 blocks survive JPEG nearly exactly.
 * Encodings are kept, since jpeg-js takes tens of milliseconds per image.
 */
export function flatJpeg(rgb: readonly [number, number, number], size = 64): Buffer {
  const key = `${rgb.join(',')}/${size}`;
  let encoded = jpegs.get(key);
  if (!encoded) {
    const data = Buffer.alloc(size * size * 4);
    for (let p = 0; p < size * size; p++) data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
    encoded = jpeg.encode({ data, width: size, height: size }, 100).data;
    jpegs.set(key, encoded);
  }
  return encoded;
}

export interface TinyImageNetTree {
  wnids: string[];
  /** Colour of each training image, by wnid, in file name order. */
  train: Record<string, Array<[number, number, number]>>;
  /** Validation images: file name, wnid, colour. */
  val: Array<{ file: string; wnid: string; rgb: [number, number, number] }>;
}

/** The official tiny-imagenet-200 layout under `dir`. */
export function writeTinyImageNet(dir: string, tree: TinyImageNetTree, words = true): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'wnids.txt'), `${tree.wnids.join('\n')}\n`);
  if (words) {
    const lines = tree.wnids.map((wnid, i) => `${wnid}\tthing ${i}, other name`);
    writeFileSync(path.join(dir, 'words.txt'), `n99999999\tunused\n${lines.join('\n')}\n`);
  }
  for (const [wnid, colours] of Object.entries(tree.train)) {
    const images = path.join(dir, 'train', wnid, 'images');
    mkdirSync(images, { recursive: true });
    writeFileSync(path.join(dir, 'train', wnid, `${wnid}_boxes.txt`), '');
    colours.forEach((rgb, i) => {
      writeFileSync(path.join(images, `${wnid}_${i}.JPEG`), flatJpeg(rgb));
    });
  }
  mkdirSync(path.join(dir, 'val', 'images'), { recursive: true });
  const annotations = tree.val.map((v) => `${v.file}\t${v.wnid}\t0\t0\t63\t63`);
  writeFileSync(path.join(dir, 'val', 'val_annotations.txt'), `${annotations.join('\n')}\n`);
  for (const v of tree.val) writeFileSync(path.join(dir, 'val', 'images', v.file), flatJpeg(v.rgb));
}
