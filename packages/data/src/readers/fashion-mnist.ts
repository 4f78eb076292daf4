import { existsSync } from 'node:fs';
import path from 'node:path';
import { CATALOG, FASHION_MNIST_CLASS_NAMES } from '../catalog.js';
import { pointAtFiles } from '../data-dir.js';
import type { Split } from '../dataset.js';
import { DatasetFileError } from '../dataset-file-error.js';
import { chooseExamples, type SubsetChooser } from '../subset.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import type { ReadResult } from './read-result.js';
import { gunzip, readRequiredFile } from './required-file.js';

const hint = () =>
  `expected the official Fashion-MNIST IDX files (${CATALOG['fashion-mnist'].requiredFiles.join(', ')}); ` +
  pointAtFiles('fashion-mnist');

/** The official `.gz` file, or the same file already gunzipped beside it. */
async function readIdx(dir: string, stem: string): Promise<{ file: string; bytes: Uint8Array }> {
  const plain = path.join(dir, stem);
  const gzipped = `${plain}.gz`;
  if (!existsSync(gzipped) && existsSync(plain)) {
    return { file: plain, bytes: await readRequiredFile(plain, hint()) };
  }
  return { file: gzipped, bytes: gunzip(await readRequiredFile(gzipped, hint()), gzipped) };
}

async function readSplit(dir: string, prefix: 'train' | 't10k'): Promise<Split> {
  const { height, width } = CATALOG['fashion-mnist'].shape;
  const imageFile = await readIdx(dir, `${prefix}-images-idx3-ubyte`);
  const labelFile = await readIdx(dir, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdxImages(imageFile.bytes, imageFile.file, height, width);
  const labels = parseIdxLabels(labelFile.bytes, labelFile.file, FASHION_MNIST_CLASS_NAMES.length);
  const size = images.length / (height * width);
  if (size !== labels.length) {
    throw new DatasetFileError(
      labelFile.file,
      `${labels.length} labels for the ${size} images of ${imageFile.file}`,
    );
  }
  return { images, labels, size };
}

/** Fashion-MNIST from its official IDX files: 60,000 train / 10,000 test (t10k). */
export async function readFashionMnist(dir: string, choose: SubsetChooser): Promise<ReadResult> {
  const train = chooseExamples(await readSplit(dir, 'train'), 'train', choose);
  const test = chooseExamples(await readSplit(dir, 't10k'), 'test', choose);
  return { train, test, classNames: FASHION_MNIST_CLASS_NAMES, source: dir };
}
