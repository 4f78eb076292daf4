import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { missingDatasetFiles, pointAtFiles } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-missing-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('missingDatasetFiles', () => {
  it('names the folder, every missing file and the command that fetches them', () => {
    writeFileSync(path.join(dir, 'data_batch_1.bin'), '');
    expect(missingDatasetFiles('cifar10', dir)).toBe(
      `cifar10: ${dir} lacks data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, ` +
        `data_batch_5.bin, test_batch.bin; ${pointAtFiles('cifar10', dir)}`,
    );
  });

  it('accepts the official folder inside the data dir, and gunzipped Fashion-MNIST files', () => {
    const nested = path.join(dir, 'cifar-100-binary');
    mkdirSync(nested);
    for (const file of ['train.bin', 'test.bin']) writeFileSync(path.join(nested, file), '');
    expect(missingDatasetFiles('cifar100', dir)).toBeNull();
    for (const stem of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) {
      writeFileSync(path.join(dir, stem), '');
    }
    for (const stem of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(path.join(dir, `${stem}.gz`), '');
    }
    expect(missingDatasetFiles('fashion-mnist', dir)).toBeNull();
  });

  it('has nothing to miss for the embedded MNIST', () => {
    expect(missingDatasetFiles('mnist', null)).toBeNull();
  });
});

describe('pointAtFiles', () => {
  it('names every way to give a command the files, and the default location', () => {
    const env = process.env.PRUNEFUSE_DATA_DIR;
    process.env.PRUNEFUSE_DATA_DIR = dir;
    try {
      expect(pointAtFiles('cifar10')).toBe(
        'run `pnpm prunefuse data fetch cifar10`; or point at a folder that holds the files: ' +
          '--data-dir DIR (run, data info, data fetch), dataset.dataDir in the experiment config, ' +
          'or PRUNEFUSE_DATA_DIR=ROOT (a folder holding cifar-10-batches-bin/); ' +
          `default location: ${path.join(dir, 'cifar-10-batches-bin')}`,
      );
    } finally {
      if (env === undefined) delete process.env.PRUNEFUSE_DATA_DIR;
      else process.env.PRUNEFUSE_DATA_DIR = env;
    }
    expect(pointAtFiles('tiny-imagenet', '/data/x')).toContain(
      'run `pnpm prunefuse data fetch tiny-imagenet --data-dir /data/x`; or point at',
    );
    // Fashion-MNIST's default is Debian's package folder, which the variable does not move.
    const fashion = pointAtFiles('fashion-mnist');
    expect(fashion).toMatch(/^install Debian's dataset-fashion-mnist \(apt-get install /);
    expect(fashion).toContain('--data-dir DIR (run, data info, data fetch), dataset.dataDir');
    expect(fashion).not.toContain('PRUNEFUSE_DATA_DIR');
    expect(fashion).toMatch(/default location: \/usr\/share\/datasets\/fashion-mnist$/);
  });
});
