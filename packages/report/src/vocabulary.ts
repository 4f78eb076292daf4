import type { AcquisitionName, DatasetName, MethodName } from '@prunefuse/results';

/*
 * The results vocabulary as runtime lists, for validating hand-written files. Written as
 * records so that the compiler rejects a list that misses or misspells a name.
 */
export const DATASET_NAMES = Object.keys({
  mnist: true,
  'fashion-mnist': true,
  cifar10: true,
  cifar100: true,
  'tiny-imagenet': true,
} satisfies Record<DatasetName, true>) as DatasetName[];

export const ACQUISITION_NAMES = Object.keys({
  'least-confidence': true,
  entropy: true,
  margin: true,
  'k-centers': true,
  random: true,
} satisfies Record<AcquisitionName, true>) as AcquisitionName[];

export const METHOD_NAMES = Object.keys({
  prunefuse: true,
  svp: true,
  'active-learning': true,
  random: true,
  full: true,
} satisfies Record<MethodName, true>) as MethodName[];
