import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetFileError, loadDataset } from '../src/index.js';
import { cifarRecords, pixelValue, temporaryDir } from './official-formats.js';
import { rejectionOf } from './rejection.js';

let tmp: ReturnType<typeof temporaryDir>;
beforeEach(() => {
  tmp = temporaryDir();
});
afterEach(() => tmp.remove());

/** Batch b holds 3 records labelled (b + r) % 10; the test batch 4 records labelled 9 - r. */
function writeCifar10(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) {
    const labels = [0, 1, 2].map((r) => [(b + r) % 10]);
    writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecords(labels, (b - 1) * 3));
  }
  writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[9], [8], [7], [6]], 100));
}

function expectImage(images: Uint8Array, at: number, image: number): void {
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      for (let c = 0; c < 3; c++) {
        const found = images[((at * 32 + y) * 32 + x) * 3 + c];
        if (found !== pixelValue(image, y, x, c)) {
          throw new Error(
            `image ${at} pixel (${y},${x},${c}) is ${found}, expected ${pixelValue(image, y, x, c)}`,
          );
        }
      }
    }
  }
}

describe('CIFAR-10 binary version', () => {
  it('reads data_batch_1..5 in order and test_batch, byte for byte, as NHWC', async () => {
    writeCifar10(tmp.dir);
    const dataset = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 });
    expect(dataset.train.size).toBe(15);
    expect(dataset.test.size).toBe(4);
    expect(Array.from(dataset.train.labels)).toEqual(
      [1, 2, 3, 4, 5].flatMap((b) => [0, 1, 2].map((r) => (b + r) % 10)),
    );
    expect(Array.from(dataset.test.labels)).toEqual([9, 8, 7, 6]);
    for (let i = 0; i < 15; i++) expectImage(dataset.train.images, i, i);
    for (let i = 0; i < 4; i++) expectImage(dataset.test.images, i, 100 + i);
    expect(dataset.train.images).toBeInstanceOf(Uint8Array);
    expect(dataset.train.images.length).toBe(15 * 3072);
    expect(dataset.shape).toEqual({ height: 32, width: 32, channels: 3 });
    expect(dataset.classes).toBe(10);
    expect(dataset.classNames[0]).toBe('airplane');
    expect(dataset.classNames[9]).toBe('truck');
    expect(dataset.augmentation).toBe('crop-flip');
    expect(dataset.source).toBe(tmp.dir);
  });

  it('measures per-channel mean and std on the training images', async () => {
    writeCifar10(tmp.dir);
    const dataset = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 });
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let i = 0; i < 15; i++) {
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) values.push(pixelValue(i, y, x, c) / 255);
      }
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
      expect(dataset.mean[c]).toBeCloseTo(mean, 10);
      expect(dataset.std[c]).toBeCloseTo(std, 10);
    }
  });

  it('finds the files inside the official cifar-10-batches-bin folder', async () => {
    writeCifar10(path.join(tmp.dir, 'cifar-10-batches-bin'));
    const dataset = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 });
    expect(dataset.source).toBe(path.join(tmp.dir, 'cifar-10-batches-bin'));
    expect(dataset.train.size).toBe(15);
  });

  it('takes seeded, class-mixed subsets as a prefix of one permutation', async () => {
    writeCifar10(tmp.dir);
    const full = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 });
    const small = await loadDataset('cifar10', {
      dataDir: tmp.dir,
      seed: 7,
      trainSubset: 5,
      testSubset: 2,
    });
    const larger = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 7, trainSubset: 9 });
    const other = await loadDataset('cifar10', { dataDir: tmp.dir, seed: 8, trainSubset: 5 });
    expect(small.train.size).toBe(5);
    expect(small.test.size).toBe(2);
    expect(larger.test.size).toBe(4);
    expect(larger.train.images.subarray(0, 5 * 3072)).toEqual(small.train.images);
    expect(Array.from(larger.train.labels.subarray(0, 5))).toEqual(Array.from(small.train.labels));
    expect(other.train.images).not.toEqual(small.train.images);
    // Each kept image is one of the full split's, with its own label.
    for (let i = 0; i < small.train.size; i++) {
      const image = small.train.images.subarray(i * 3072, (i + 1) * 3072);
      const from = [...Array(15).keys()].find((j) =>
        full.train.images.subarray(j * 3072, (j + 1) * 3072).every((v, k) => v === image[k]),
      );
      expect(from).toBeDefined();
      expect(small.train.labels[i]).toBe(full.train.labels[from!]);
    }
  });

  it('refuses a subset larger than the split or not a whole number', async () => {
    writeCifar10(tmp.dir);
    await expect(
      loadDataset('cifar10', { dataDir: tmp.dir, seed: 1, trainSubset: 16 }),
    ).rejects.toThrow('trainSubset: 16 exceeds the 15 train examples of cifar10');
    await expect(
      loadDataset('cifar10', { dataDir: tmp.dir, seed: 1, testSubset: 0 }),
    ).rejects.toThrow('testSubset: 0 is not a positive whole number');
  });

  describe('bad input names the file and the fault', () => {
    it('a missing batch', async () => {
      writeCifar10(tmp.dir);
      const file = path.join(tmp.dir, 'data_batch_3.bin');
      rmSync(file);
      const error = await rejectionOf(loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 }));
      expect(error).toBeInstanceOf(DatasetFileError);
      expect((error as DatasetFileError).file).toBe(file);
      expect(error.message).toMatch(
        /data_batch_3\.bin: missing; expected the official binary version/,
      );
      expect(error.message).toContain('prunefuse data fetch cifar10');
    });

    it('a truncated batch', async () => {
      writeCifar10(tmp.dir);
      const file = path.join(tmp.dir, 'data_batch_2.bin');
      writeFileSync(file, cifarRecords([[1], [2]]).subarray(0, 3073 + 1000));
      await expect(loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 })).rejects.toThrow(
        `${file}: truncated or wrong record size: 4073 bytes are 1 whole 3073-byte CIFAR-10 records and 1000 bytes over`,
      );
    });

    it('an empty batch', async () => {
      writeCifar10(tmp.dir);
      const file = path.join(tmp.dir, 'test_batch.bin');
      writeFileSync(file, new Uint8Array(0));
      await expect(loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 })).rejects.toThrow(
        `${file}: is empty`,
      );
    });

    it('CIFAR-100 records where CIFAR-10 records belong (wrong record size)', async () => {
      writeCifar10(tmp.dir);
      const file = path.join(tmp.dir, 'data_batch_1.bin');
      writeFileSync(
        file,
        cifarRecords([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      );
      await expect(loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 })).rejects.toThrow(
        `${file}: wrong record size: 9222 bytes are 3074-byte records (the CIFAR-100 layout), expected 3073-byte CIFAR-10 records`,
      );
    });

    it('a label out of range, with its record and offset', async () => {
      writeCifar10(tmp.dir);
      const file = path.join(tmp.dir, 'data_batch_4.bin');
      writeFileSync(file, cifarRecords([[1], [10], [2]]));
      await expect(loadDataset('cifar10', { dataDir: tmp.dir, seed: 1 })).rejects.toThrow(
        `${file}: label 10 of record 1 (byte offset 3073) is out of range 0..9`,
      );
    });
  });
});

describe('CIFAR-100 binary version', () => {
  function writeCifar100(dir: string, train: number[][], test: number[][]): void {
    writeFileSync(path.join(dir, 'train.bin'), cifarRecords(train));
    writeFileSync(path.join(dir, 'test.bin'), cifarRecords(test, 50));
  }

  it('reads coarse and fine label bytes and trains on the fine label', async () => {
    writeCifar100(
      tmp.dir,
      [
        [4, 0],
        [1, 1],
        [14, 2],
        [19, 99],
      ],
      [
        [10, 42],
        [0, 4],
      ],
    );
    const dataset = await loadDataset('cifar100', { dataDir: tmp.dir, seed: 3 });
    expect(Array.from(dataset.train.labels)).toEqual([0, 1, 2, 99]);
    expect(Array.from(dataset.test.labels)).toEqual([42, 4]);
    for (let i = 0; i < 4; i++) expectImage(dataset.train.images, i, i);
    for (let i = 0; i < 2; i++) expectImage(dataset.test.images, i, 50 + i);
    expect(dataset.classes).toBe(100);
    expect(dataset.classNames[0]).toBe('apple');
    expect(dataset.classNames[99]).toBe('worm');
  });

  it('refuses a fine label out of range', async () => {
    writeCifar100(
      tmp.dir,
      [
        [4, 0],
        [1, 100],
      ],
      [[0, 0]],
    );
    await expect(loadDataset('cifar100', { dataDir: tmp.dir, seed: 3 })).rejects.toThrow(
      `${path.join(tmp.dir, 'train.bin')}: fine label 100 of record 1 (byte offset 3075) is out of range 0..99`,
    );
  });

  it('refuses a coarse label out of range', async () => {
    writeCifar100(
      tmp.dir,
      [[4, 0]],
      [
        [0, 0],
        [20, 5],
      ],
    );
    await expect(loadDataset('cifar100', { dataDir: tmp.dir, seed: 3 })).rejects.toThrow(
      `${path.join(tmp.dir, 'test.bin')}: coarse label 20 of record 1 (byte offset 3074) is out of range 0..19`,
    );
  });

  it('refuses CIFAR-10 records (wrong record size)', async () => {
    writeFileSync(path.join(tmp.dir, 'train.bin'), cifarRecords([[1], [2]]));
    writeFileSync(path.join(tmp.dir, 'test.bin'), cifarRecords([[1, 1]]));
    await expect(loadDataset('cifar100', { dataDir: tmp.dir, seed: 3 })).rejects.toThrow(
      /train\.bin: wrong record size: 6146 bytes are 3073-byte records \(the CIFAR-10 layout\)/,
    );
  });
});
