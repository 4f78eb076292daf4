export {
  type Augmentation,
  type AugmentSetting,
  CROP_FLIP,
  CROP_PADDING,
  resolveAugmentation,
} from './augmentation.js';
export {
  type Batch,
  type BatchOptions,
  type EpochOptions,
  epochBatches,
  makeBatch,
  orderedBatches,
} from './batch.js';
export { dataBenchCases } from './bench.js';
export { resolveBudget } from './budget.js';
export { type DatasetFacts, datasetFacts } from './catalog.js';
export {
  dataRoot,
  defaultDataDir,
  FASHION_MNIST_DEBIAN_DIR,
  missingDatasetFiles,
  pointAtFiles,
  resolveDataDir,
} from './data-dir.js';
export {
  type AugmentationKind,
  type BatchGeometry,
  DATASET_NAMES,
  type Dataset,
  type DatasetName,
  type ImageShape,
  isDatasetName,
  parseDatasetName,
  type Split,
} from './dataset.js';
export { DatasetFileError } from './dataset-file-error.js';
export { DownloadError, type FetchFunction } from './download.js';
export { type FetchOptions, type FetchReport, fetchDataset } from './fetch.js';
export { type DatasetInfo, datasetInfo, type SplitInfo } from './info.js';
export { type LoadOptions, loadDataset } from './load.js';
export { initialLabelledSet, LabelledPool } from './pool.js';
