import { DatasetFileError } from '../dataset-file-error.js';

/**
 * The IDX format of (Fashion-)MNIST: a big-endian header of magic number (two zero
 * bytes, a type byte 0x08 for unsigned byte, a dimension count), one 32-bit size per
 * dimension, then the values. 2051 = images (N x rows x cols), 2049 = labels (N).
 */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

function parseHeader(bytes: Uint8Array, file: string, magic: number, what: string): number[] {
  const dimensions = magic & 0xff;
  const headerBytes = 4 + 4 * dimensions;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = bytes.length >= 4 ? view.getInt32(0, false) : null;
  if (found !== null && found !== magic) {
    throw new DatasetFileError(file, `IDX magic number ${found}, expected ${magic} (${what})`);
  }
  if (bytes.length < headerBytes) {
    throw new DatasetFileError(
      file,
      `truncated: ${bytes.length} bytes is shorter than the ${headerBytes}-byte IDX header of ${what}`,
    );
  }
  const sizes: number[] = [];
  for (let d = 0; d < dimensions; d++) sizes.push(view.getUint32(4 + 4 * d, false));
  const expected = headerBytes + sizes.reduce((a, b) => a * b, 1);
  if (bytes.length < expected) {
    throw new DatasetFileError(
      file,
      `truncated: the header promises ${sizes.join('x')} values (${expected} bytes), the file has ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetFileError(
      file,
      `${bytes.length - expected} bytes beyond the ${sizes.join('x')} values its header declares`,
    );
  }
  return sizes;
}

/** The images of an IDX image file, which must be `height` x `width`. */
export function parseIdxImages(
  bytes: Uint8Array,
  file: string,
  height: number,
  width: number,
): Uint8Array {
  const [, rows, cols] = parseHeader(bytes, file, IDX_IMAGES_MAGIC, 'an image file');
  if (rows !== height || cols !== width) {
    throw new DatasetFileError(file, `images are ${rows}x${cols}, expected ${height}x${width}`);
  }
  return bytes.subarray(16);
}

/** The labels of an IDX label file, each checked to lie in 0..classes-1. */
export function parseIdxLabels(bytes: Uint8Array, file: string, classes: number): Int32Array {
  parseHeader(bytes, file, IDX_LABELS_MAGIC, 'a label file');
  const values = bytes.subarray(8);
  const labels = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const label = values[i]!;
    if (label >= classes) {
      throw new DatasetFileError(
        file,
        `label ${label} of item ${i} (byte offset ${8 + i}) is out of range 0..${classes - 1}`,
      );
    }
    labels[i] = label;
  }
  return labels;
}
