import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetFileError, loadDataset } from '../src/index.js';
import {
  flatJpeg,
  type TinyImageNetTree,
  temporaryDir,
  writeTinyImageNet,
} from './official-formats.js';
import { rejectionOf } from './rejection.js';

let tmp: ReturnType<typeof temporaryDir>;
beforeEach(() => {
  tmp = temporaryDir();
});
afterEach(() => tmp.remove());

// wnids.txt lists classes unsorted, as the official file does; labels follow sorted order.
const TREE: TinyImageNetTree = {
  wnids: ['n03000000', 'n01000000', 'n02000000'],
  train: {
    n01000000: [
      [200, 10, 10],
      [10, 200, 10],
    ],
    n02000000: [[10, 10, 200]],
    n03000000: [
      [120, 120, 120],
      [250, 250, 0],
    ],
  },
  val: [
    { file: 'val_0.JPEG', wnid: 'n03000000', rgb: [0, 128, 255] },
    { file: 'val_1.JPEG', wnid: 'n01000000', rgb: [64, 64, 64] },
  ],
};

function expectFlat(images: Uint8Array, at: number, rgb: readonly number[], file: string): void {
  const decoded = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: false }).data;
  const image = images.subarray(at * 12288, (at + 1) * 12288);
  expect(Buffer.from(image).equals(decoded), `image ${at} differs from ${file} decoded`).toBe(true);
  for (let p = 0; p < 64 * 64; p++) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs(image[p * 3 + c]! - rgb[c]!) > 2)
        throw new Error(`image ${at} pixel ${p}.${c} is ${image[p * 3 + c]}, expected ~${rgb[c]}`);
    }
  }
}

const load = () => loadDataset('tiny-imagenet', { dataDir: tmp.dir, seed: 1 });

describe('Tiny-ImageNet-200 folder layout', () => {
  it('reads train/<wnid>/images and val/ with labels in sorted wnid order', async () => {
    writeTinyImageNet(tmp.dir, TREE);
    const dataset = await load();
    expect(dataset.classes).toBe(3);
    expect(dataset.classNames).toEqual(['thing 1', 'thing 2', 'thing 0']);
    expect(dataset.shape).toEqual({ height: 64, width: 64, channels: 3 });
    expect(dataset.augmentation).toBe('crop-flip');
    expect(Array.from(dataset.train.labels)).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(dataset.test.labels)).toEqual([2, 0]);
    const trainFiles = [
      ['n01000000', 0],
      ['n01000000', 1],
      ['n02000000', 0],
      ['n03000000', 0],
      ['n03000000', 1],
    ] as const;
    trainFiles.forEach(([wnid, i], at) => {
      const file = path.join(tmp.dir, 'train', wnid, 'images', `${wnid}_${i}.JPEG`);
      expectFlat(dataset.train.images, at, TREE.train[wnid]![i]!, file);
    });
    TREE.val.forEach((v, at) => {
      expectFlat(dataset.test.images, at, v.rgb, path.join(tmp.dir, 'val', 'images', v.file));
    });
  });

  it('names classes by wnid without words.txt, and finds the official top folder', async () => {
    writeTinyImageNet(path.join(tmp.dir, 'tiny-imagenet-200'), TREE, false);
    const dataset = await load();
    expect(dataset.classNames).toEqual(['n01000000', 'n02000000', 'n03000000']);
    expect(dataset.source).toBe(path.join(tmp.dir, 'tiny-imagenet-200'));
  });

  it('decodes only the subset it keeps', async () => {
    writeTinyImageNet(tmp.dir, TREE);
    const full = await load();
    const subset = await loadDataset('tiny-imagenet', {
      dataDir: tmp.dir,
      seed: 4,
      trainSubset: 2,
      testSubset: 1,
    });
    expect(subset.train.size).toBe(2);
    expect(subset.test.size).toBe(1);
    for (let i = 0; i < 2; i++) {
      const image = subset.train.images.subarray(i * 12288, (i + 1) * 12288);
      const from = [0, 1, 2, 3, 4].find((j) =>
        Buffer.from(full.train.images.subarray(j * 12288, (j + 1) * 12288)).equals(image),
      );
      expect(from).toBeDefined();
      expect(subset.train.labels[i]).toBe(full.train.labels[from!]);
    }
  });

  describe('bad input names the file and the fault', () => {
    it('an unknown class folder', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      mkdirSync(path.join(tmp.dir, 'train', 'n04000000', 'images'), { recursive: true });
      const error = await rejectionOf(load());
      expect(error).toBeInstanceOf(DatasetFileError);
      expect(error.message).toBe(
        `${path.join(tmp.dir, 'train', 'n04000000')}: unknown class folder: its name is not in wnids.txt`,
      );
    });

    it('a class of wnids.txt without its folder', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      rmSync(path.join(tmp.dir, 'train', 'n02000000'), { recursive: true });
      await expect(load()).rejects.toThrow(
        `${path.join(tmp.dir, 'train', 'n02000000')}: missing folder for class n02000000`,
      );
    });

    it('a missing wnids.txt', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      rmSync(path.join(tmp.dir, 'wnids.txt'));
      await expect(load()).rejects.toThrow(
        `${path.join(tmp.dir, 'wnids.txt')}: missing; expected the official tiny-imagenet-200 folder`,
      );
    });

    it('an undecodable JPEG', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      const file = path.join(tmp.dir, 'train', 'n02000000', 'images', 'n02000000_0.JPEG');
      writeFileSync(file, Buffer.from('not a jpeg at all'));
      await expect(load()).rejects.toThrow(new RegExp(`^${file}: undecodable JPEG \\(`));
    });

    it('a truncated JPEG', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      const file = path.join(tmp.dir, 'val', 'images', 'val_1.JPEG');
      const whole = flatJpeg([64, 64, 64]);
      writeFileSync(file, whole.subarray(0, whole.length / 2));
      await expect(load()).rejects.toThrow(new RegExp(`^${file}: undecodable JPEG`));
    });

    it('a JPEG of the wrong size', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      const file = path.join(tmp.dir, 'train', 'n03000000', 'images', 'n03000000_1.JPEG');
      writeFileSync(file, flatJpeg([1, 2, 3], 32));
      await expect(load()).rejects.toThrow(`${file}: image is 32x32, expected 64x64`);
    });

    it('a validation annotation naming an unknown class', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      const file = path.join(tmp.dir, 'val', 'val_annotations.txt');
      writeFileSync(file, 'val_0.JPEG\tn03000000\t0\t0\t1\t1\nval_1.JPEG\tn09999999\t0\t0\t1\t1\n');
      await expect(load()).rejects.toThrow(`${file}: line 2: class n09999999 is not in wnids.txt`);
    });

    it('a validation image that is missing', async () => {
      writeTinyImageNet(tmp.dir, TREE);
      const file = path.join(tmp.dir, 'val', 'images', 'val_0.JPEG');
      rmSync(file);
      await expect(load()).rejects.toThrow(`${file}: missing image`);
    });
  });
});
