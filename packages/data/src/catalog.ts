import type { AugmentationKind, DatasetName, ImageShape } from './dataset.js';

/** What is fixed about each dataset, before any file is read. */
export interface CatalogEntry {
  shape: ImageShape;
  augmentation: AugmentationKind;
  /**
   * The folder name the official archive unpacks to; a data dir may be that folder or
   * the one holding it. null where the files come loose (Fashion-MNIST) or embedded (MNIST).
   */
  officialFolder: string | null;
  /** Files (or folders, ending in '/') that a complete data dir holds, for messages and checks. */
  requiredFiles: readonly string[];
  /** Sizes of the full splits (MNIST: the embedded 80/20 per-digit split) and the class count. */
  trainSize: number;
  testSize: number;
  classes: number;
}

const DIGITS: ImageShape = { height: 28, width: 28, channels: 1 };
const CIFAR: ImageShape = { height: 32, width: 32, channels: 3 };

export const CATALOG: Readonly<Record<DatasetName, CatalogEntry>> = {
  mnist: {
    shape: DIGITS,
    augmentation: 'none',
    officialFolder: null,
    requiredFiles: [],
    trainSize: 8000,
    testSize: 2000,
    classes: 10,
  },
  'fashion-mnist': {
    shape: DIGITS,
    augmentation: 'none',
    officialFolder: null,
    requiredFiles: [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ],
    trainSize: 60_000,
    testSize: 10_000,
    classes: 10,
  },
  cifar10: {
    shape: CIFAR,
    augmentation: 'crop-flip',
    officialFolder: 'cifar-10-batches-bin',
    requiredFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin'),
    trainSize: 50_000,
    testSize: 10_000,
    classes: 10,
  },
  cifar100: {
    shape: CIFAR,
    augmentation: 'crop-flip',
    officialFolder: 'cifar-100-binary',
    requiredFiles: ['train.bin', 'test.bin'],
    trainSize: 50_000,
    testSize: 10_000,
    classes: 100,
  },
  'tiny-imagenet': {
    shape: { height: 64, width: 64, channels: 3 },
    augmentation: 'crop-flip',
    officialFolder: 'tiny-imagenet-200',
    requiredFiles: ['wnids.txt', 'train/', 'val/val_annotations.txt', 'val/images/'],
    trainSize: 100_000,
    testSize: 10_000,
    classes: 200,
  },
};

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Label order of the official binary version (batches.meta.txt). */
export const CIFAR10_CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/** Fine-label order of the official binary version (fine_label_names.txt). */
export const CIFAR100_CLASS_NAMES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus ' +
  'butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch ' +
  'crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo ' +
  'keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse ' +
  'mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy ' +
  'porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper ' +
  'snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television ' +
  'tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');

/** CIFAR-100 records also carry a coarse (superclass) label byte, validated but not trained on. */
export const CIFAR100_COARSE_CLASSES = 20;

/** A dataset's fixed facts, known without reading its files. */
export interface DatasetFacts {
  trainSize: number;
  testSize: number;
  shape: ImageShape;
  classes: number;
}

export function datasetFacts(name: DatasetName): DatasetFacts {
  const { trainSize, testSize, shape, classes } = CATALOG[name];
  return { trainSize, testSize, shape, classes };
}
