import path from 'node:path';
import {
  CATALOG,
  CIFAR10_CLASS_NAMES,
  CIFAR100_CLASS_NAMES,
  CIFAR100_COARSE_CLASSES,
} from '../catalog.js';
import { pointAtFiles } from '../data-dir.js';
import type { Split } from '../dataset.js';
import { DatasetFileError } from '../dataset-file-error.js';
import { chooseExamples, type SubsetChooser } from '../subset.js';
import type { ReadResult } from './read-result.js';
import { readRequiredFile } from './required-file.js';

/**
 * The CIFAR binary version: fixed-size records, each the label byte(s) then a 32x32
 * image as 1024 red, 1024 green, 1024 blue bytes, rows top to bottom. CIFAR-10 has one
 * label byte; CIFAR-100 a coarse then a fine label byte.
 */
const PLANE = 32 * 32;
const IMAGE_BYTES = 3 * PLANE;

interface RecordLayout {
  dataset: string;
  labelBytes: 1 | 2;
  /** Classes of the label byte trained on (the last one), and of the coarse byte if any. */
  classes: number;
  coarseClasses: number | null;
}

const CIFAR10_TEST_FILE = 'test_batch.bin';

const CIFAR10: RecordLayout = {
  dataset: 'CIFAR-10',
  labelBytes: 1,
  classes: 10,
  coarseClasses: null,
};
const CIFAR100: RecordLayout = {
  dataset: 'CIFAR-100',
  labelBytes: 2,
  classes: 100,
  coarseClasses: CIFAR100_COARSE_CLASSES,
};

function checkRecordCount(bytes: Uint8Array, file: string, layout: RecordLayout): number {
  const recordBytes = layout.labelBytes + IMAGE_BYTES;
  if (bytes.length === 0) throw new DatasetFileError(file, 'is empty');
  if (bytes.length % recordBytes === 0) return bytes.length / recordBytes;
  const other = layout === CIFAR10 ? CIFAR100 : CIFAR10;
  const otherBytes = other.labelBytes + IMAGE_BYTES;
  if (bytes.length % otherBytes === 0) {
    throw new DatasetFileError(
      file,
      `wrong record size: ${bytes.length} bytes are ${otherBytes}-byte records (the ${other.dataset} ` +
        `layout), expected ${recordBytes}-byte ${layout.dataset} records`,
    );
  }
  const whole = Math.floor(bytes.length / recordBytes);
  throw new DatasetFileError(
    file,
    `truncated or wrong record size: ${bytes.length} bytes are ${whole} whole ${recordBytes}-byte ` +
      `${layout.dataset} records and ${bytes.length - whole * recordBytes} bytes over`,
  );
}

function checkLabel(
  file: string,
  record: number,
  offset: number,
  value: number,
  classes: number,
  what: string,
): void {
  if (value >= classes) {
    throw new DatasetFileError(
      file,
      `${what} ${value} of record ${record} (byte offset ${offset}) is out of range 0..${classes - 1}`,
    );
  }
}

/** Parses one binary file into NHWC images and its trained-on labels, validating every label. */
function parseCifarRecords(bytes: Uint8Array, file: string, layout: RecordLayout): Split {
  const size = checkRecordCount(bytes, file, layout);
  const recordBytes = layout.labelBytes + IMAGE_BYTES;
  const images = new Uint8Array(size * IMAGE_BYTES);
  const labels = new Int32Array(size);
  for (let r = 0; r < size; r++) {
    const start = r * recordBytes;
    if (layout.coarseClasses !== null) {
      checkLabel(file, r, start, bytes[start]!, layout.coarseClasses, 'coarse label');
    }
    const labelAt = start + layout.labelBytes - 1;
    const label = bytes[labelAt]!;
    checkLabel(
      file,
      r,
      labelAt,
      label,
      layout.classes,
      layout.coarseClasses === null ? 'label' : 'fine label',
    );
    labels[r] = label;
    const pixels = start + layout.labelBytes;
    const out = r * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      images[out + 3 * p] = bytes[pixels + p]!;
      images[out + 3 * p + 1] = bytes[pixels + PLANE + p]!;
      images[out + 3 * p + 2] = bytes[pixels + 2 * PLANE + p]!;
    }
  }
  return { images, labels, size };
}

function concatSplits(splits: readonly Split[]): Split {
  const size = splits.reduce((n, s) => n + s.size, 0);
  const images = new Uint8Array(size * IMAGE_BYTES);
  const labels = new Int32Array(size);
  let at = 0;
  for (const split of splits) {
    images.set(split.images, at * IMAGE_BYTES);
    labels.set(split.labels, at);
    at += split.size;
  }
  return { images, labels, size };
}

async function readFiles(
  dir: string,
  files: readonly string[],
  layout: RecordLayout,
  hint: string,
) {
  const splits: Split[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    splits.push(parseCifarRecords(await readRequiredFile(file, hint), file, layout));
  }
  return splits.length === 1 ? splits[0]! : concatSplits(splits);
}

function hint(name: 'cifar10' | 'cifar100'): string {
  const { requiredFiles, officialFolder } = CATALOG[name];
  return (
    `expected the official binary version (${requiredFiles.join(', ')}, as unpacked into ` +
    `${officialFolder}/); ${pointAtFiles(name)}`
  );
}

/** CIFAR-10: data_batch_1..5.bin (50,000 train, in file order), test_batch.bin (10,000). */
export async function readCifar10(dir: string, choose: SubsetChooser): Promise<ReadResult> {
  const batches = CATALOG.cifar10.requiredFiles.filter((f) => f !== CIFAR10_TEST_FILE);
  const train = await readFiles(dir, batches, CIFAR10, hint('cifar10'));
  const test = await readFiles(dir, [CIFAR10_TEST_FILE], CIFAR10, hint('cifar10'));
  return {
    train: chooseExamples(train, 'train', choose),
    test: chooseExamples(test, 'test', choose),
    classNames: CIFAR10_CLASS_NAMES,
    source: dir,
  };
}

/** CIFAR-100 on its 100 fine labels: train.bin (50,000), test.bin (10,000). */
export async function readCifar100(dir: string, choose: SubsetChooser): Promise<ReadResult> {
  const train = await readFiles(dir, ['train.bin'], CIFAR100, hint('cifar100'));
  const test = await readFiles(dir, ['test.bin'], CIFAR100, hint('cifar100'));
  return {
    train: chooseExamples(train, 'train', choose),
    test: chooseExamples(test, 'test', choose),
    classNames: CIFAR100_CLASS_NAMES,
    source: dir,
  };
}
