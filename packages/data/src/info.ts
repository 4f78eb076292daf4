import type { AugmentationKind, Dataset, DatasetName, ImageShape } from './dataset.js';
import { classCounts } from './statistics.js';

export interface SplitInfo {
  size: number;
  /** Images of each class, in class order. */
  perClass: number[];
}

/** A loaded dataset described as plain JSON, for `data info` and run records. */
export interface DatasetInfo {
  name: DatasetName;
  source: string;
  shape: ImageShape;
  classes: number;
  classNames: readonly string[];
  augmentation: AugmentationKind;
  mean: readonly number[];
  std: readonly number[];
  splits: { train: SplitInfo; test: SplitInfo };
}

export function datasetInfo(dataset: Dataset): DatasetInfo {
  const split = ({ size, labels }: Dataset['train']): SplitInfo => ({
    size,
    perClass: classCounts(labels, dataset.classes),
  });
  return {
    name: dataset.name,
    source: dataset.source,
    shape: dataset.shape,
    classes: dataset.classes,
    classNames: dataset.classNames,
    augmentation: dataset.augmentation,
    mean: dataset.mean,
    std: dataset.std,
    splits: { train: split(dataset.train), test: split(dataset.test) },
  };
}
