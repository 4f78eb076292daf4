import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureDebianPackages, FASHION_MNIST } from '../../../test/support/debian-packages.js';
import {
  DatasetFileError,
  datasetInfo,
  FASHION_MNIST_DEBIAN_DIR,
  loadDataset,
} from '../src/index.js';
import { idxFile, idxImages, pixelValue, temporaryDir, writeGzip } from './official-formats.js';
import { rejectionOf } from './rejection.js';

let tmp: ReturnType<typeof temporaryDir>;
beforeEach(() => {
  tmp = temporaryDir();
});
afterEach(() => tmp.remove());

const TRAIN_LABELS = [9, 0, 0, 3, 0, 2];
const TEST_LABELS = [9, 2, 1];

function writeFashion(dir: string): void {
  writeGzip(path.join(dir, 'train-images-idx3-ubyte.gz'), idxImages(TRAIN_LABELS.length));
  writeGzip(
    path.join(dir, 'train-labels-idx1-ubyte.gz'),
    idxFile(2049, [6], Uint8Array.from(TRAIN_LABELS)),
  );
  writeGzip(path.join(dir, 't10k-images-idx3-ubyte.gz'), idxImages(TEST_LABELS.length));
  writeGzip(
    path.join(dir, 't10k-labels-idx1-ubyte.gz'),
    idxFile(2049, [3], Uint8Array.from(TEST_LABELS)),
  );
}

function load() {
  return loadDataset('fashion-mnist', { dataDir: tmp.dir, seed: 1 });
}

describe('Fashion-MNIST IDX files', () => {
  it('reads the gzipped IDX files byte for byte', async () => {
    writeFashion(tmp.dir);
    const dataset = await load();
    expect(dataset.train.size).toBe(6);
    expect(dataset.test.size).toBe(3);
    expect(Array.from(dataset.train.labels)).toEqual(TRAIN_LABELS);
    expect(Array.from(dataset.test.labels)).toEqual(TEST_LABELS);
    for (const split of [dataset.train, dataset.test]) {
      for (let i = 0; i < split.size; i++) {
        for (let y = 0; y < 28; y++) {
          for (let x = 0; x < 28; x++) {
            expect(split.images[(i * 28 + y) * 28 + x]).toBe(pixelValue(i, y, x, 0));
          }
        }
      }
    }
    expect(dataset.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(dataset.classNames[9]).toBe('Ankle boot');
    expect(dataset.augmentation).toBe('none');
  });

  it('reads IDX files that were already gunzipped', async () => {
    writeFileSync(path.join(tmp.dir, 'train-images-idx3-ubyte'), idxImages(2));
    writeFileSync(
      path.join(tmp.dir, 'train-labels-idx1-ubyte'),
      idxFile(2049, [2], Uint8Array.from([4, 5])),
    );
    writeFileSync(path.join(tmp.dir, 't10k-images-idx3-ubyte'), idxImages(1));
    writeFileSync(
      path.join(tmp.dir, 't10k-labels-idx1-ubyte'),
      idxFile(2049, [1], Uint8Array.from([6])),
    );
    const dataset = await load();
    expect(Array.from(dataset.train.labels)).toEqual([4, 5]);
    expect(dataset.test.images[28 * 3 + 2]).toBe(pixelValue(0, 3, 2, 0));
  });

  describe('bad input names the file and the fault', () => {
    const file = (name: string) => path.join(tmp.dir, name);

    it('a missing file', async () => {
      writeFashion(tmp.dir);
      rmSync(file('t10k-labels-idx1-ubyte.gz'));
      const error = await rejectionOf(load());
      expect(error).toBeInstanceOf(DatasetFileError);
      expect(error.message).toContain(
        `${file('t10k-labels-idx1-ubyte.gz')}: missing; expected the official`,
      );
    });

    it('a wrong magic number', async () => {
      writeFashion(tmp.dir);
      writeGzip(file('train-images-idx3-ubyte.gz'), idxFile(2049, [6], new Uint8Array(6)));
      await expect(load()).rejects.toThrow(
        `${file('train-images-idx3-ubyte.gz')}: IDX magic number 2049, expected 2051 (an image file)`,
      );
    });

    it('a truncated image file', async () => {
      writeFashion(tmp.dir);
      writeGzip(file('train-images-idx3-ubyte.gz'), idxImages(6).subarray(0, 16 + 5 * 784 + 10));
      await expect(load()).rejects.toThrow(
        `${file('train-images-idx3-ubyte.gz')}: truncated: the header promises 6x28x28 values (4720 bytes), the file has 3946`,
      );
    });

    it('a header cut short', async () => {
      writeFashion(tmp.dir);
      writeGzip(file('train-labels-idx1-ubyte.gz'), Uint8Array.from([0, 0, 8, 1, 0]));
      await expect(load()).rejects.toThrow(
        /train-labels-idx1-ubyte\.gz: truncated: 5 bytes is shorter than the 8-byte IDX header/,
      );
    });

    it('trailing bytes beyond the declared size', async () => {
      writeFashion(tmp.dir);
      writeGzip(
        file('t10k-labels-idx1-ubyte.gz'),
        idxFile(2049, [3], Uint8Array.from([1, 2, 3, 4])),
      );
      await expect(load()).rejects.toThrow(
        /t10k-labels-idx1-ubyte\.gz: 1 bytes beyond the 3 values its header declares/,
      );
    });

    it('images of the wrong size (wrong record size)', async () => {
      writeFashion(tmp.dir);
      writeGzip(file('t10k-images-idx3-ubyte.gz'), idxImages(3, 32, 32));
      await expect(load()).rejects.toThrow(
        /t10k-images-idx3-ubyte\.gz: images are 32x32, expected 28x28/,
      );
    });

    it('a label out of range', async () => {
      writeFashion(tmp.dir);
      writeGzip(
        file('train-labels-idx1-ubyte.gz'),
        idxFile(2049, [6], Uint8Array.from([1, 2, 3, 10, 4, 5])),
      );
      await expect(load()).rejects.toThrow(
        `${file('train-labels-idx1-ubyte.gz')}: label 10 of item 3 (byte offset 11) is out of range 0..9`,
      );
    });

    it('label and image counts that disagree', async () => {
      writeFashion(tmp.dir);
      writeGzip(
        file('train-labels-idx1-ubyte.gz'),
        idxFile(2049, [5], Uint8Array.from([1, 2, 3, 4, 5])),
      );
      await expect(load()).rejects.toThrow(
        /train-labels-idx1-ubyte\.gz: 5 labels for the 6 images of/,
      );
    });

    it('a damaged gzip stream', async () => {
      writeFashion(tmp.dir);
      const whole = gzipSync(idxImages(3));
      writeFileSync(file('t10k-images-idx3-ubyte.gz'), whole.subarray(0, whole.length - 20));
      await expect(load()).rejects.toThrow(
        /t10k-images-idx3-ubyte\.gz: not a complete gzip stream/,
      );
    });
  });
});

// The real files from Debian's dataset-fashion-mnist: installed here when this runs as
// root with apt-get, else the test fails naming the command (never skipped).
describe('Fashion-MNIST, the real Debian files', () => {
  beforeAll(() => ensureDebianPackages([FASHION_MNIST]), 600_000);

  it('holds 60,000 train and 10,000 test images, 6,000 and 1,000 per class', async () => {
    const dataset = await loadDataset('fashion-mnist', { seed: 0 });
    const info = datasetInfo(dataset);
    expect(dataset.source).toBe(FASHION_MNIST_DEBIAN_DIR);
    expect(info.splits.train.size).toBe(60_000);
    expect(info.splits.test.size).toBe(10_000);
    expect(info.splits.train.perClass).toEqual(new Array(10).fill(6000));
    expect(info.splits.test.perClass).toEqual(new Array(10).fill(1000));
    // The first images of both official splits are ankle boots; the published
    // normalisation constants are mean 0.2860, std 0.3530.
    expect(dataset.train.labels[0]).toBe(9);
    expect(Array.from(dataset.test.labels.subarray(0, 3))).toEqual([9, 2, 1]);
    expect(dataset.mean[0]).toBeCloseTo(0.286, 3);
    expect(dataset.std[0]).toBeCloseTo(0.353, 3);
  });
});
