import { type Dirent, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { CATALOG } from '../catalog.js';
import { pointAtFiles } from '../data-dir.js';
import type { Split } from '../dataset.js';
import { DatasetFileError } from '../dataset-file-error.js';
import type { SplitName, SubsetChooser } from '../subset.js';
import type { ReadResult } from './read-result.js';

/**
 * Tiny-ImageNet-200 in its official folder layout:
 *   wnids.txt                          the 200 class ids (WordNet ids), one a line
 *   words.txt                          optional: "<wnid>\t<names, comma separated>"
 *   train/<wnid>/images/*.JPEG         500 training images per class
 *   val/val_annotations.txt            "<file>\t<wnid>\t<x0>\t<y0>\t<x1>\t<y1>" per image
 *   val/images/*.JPEG                  10,000 validation images
 * The official test folder has no labels, so val is the test split, as in the paper's
 * setting. Classes are numbered in sorted wnid order (torchvision's ImageFolder order).
 */
const { height, width, channels } = CATALOG['tiny-imagenet'].shape;
const IMAGE_BYTES = height * width * channels;
const JPEG_NAME = /\.jpe?g$/i;
const hint = () =>
  `expected the official tiny-imagenet-200 folder (wnids.txt, train/, val/); ${pointAtFiles('tiny-imagenet')}`;

interface Entry {
  file: string;
  label: number;
}

function readText(file: string): string {
  if (!existsSync(file)) throw new DatasetFileError(file, `missing; ${hint()}`);
  return readFileSync(file, 'utf8');
}

function listFolder(folder: string): Dirent[] {
  if (!existsSync(folder)) throw new DatasetFileError(folder, `missing folder; ${hint()}`);
  return readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
}

function readWnids(dir: string): string[] {
  const file = path.join(dir, 'wnids.txt');
  const wnids = readText(file)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (wnids.length === 0) throw new DatasetFileError(file, 'lists no class ids');
  const seen = new Set<string>();
  for (const wnid of wnids) {
    if (seen.has(wnid)) throw new DatasetFileError(file, `class id ${wnid} is listed twice`);
    seen.add(wnid);
  }
  return wnids.sort();
}

/** The first name words.txt gives each class, or the wnid itself where it has none. */
function classNames(dir: string, wnids: readonly string[]): string[] {
  const file = path.join(dir, 'words.txt');
  const words = new Map<string, string>();
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [wnid, names] = line.split('\t');
      if (wnid && names) words.set(wnid.trim(), names.split(',')[0]!.trim());
    }
  }
  return wnids.map((wnid) => words.get(wnid) ?? wnid);
}

function trainEntries(dir: string, labelOf: ReadonlyMap<string, number>): Entry[] {
  const train = path.join(dir, 'train');
  const entries: Entry[] = [];
  const found = new Set<string>();
  for (const folder of listFolder(train)) {
    const classDir = path.join(train, folder.name);
    if (!folder.isDirectory()) continue;
    const label = labelOf.get(folder.name);
    if (label === undefined) {
      throw new DatasetFileError(classDir, 'unknown class folder: its name is not in wnids.txt');
    }
    found.add(folder.name);
    const images = path.join(classDir, 'images');
    for (const image of listFolder(images)) {
      if (image.isFile() && JPEG_NAME.test(image.name)) {
        entries.push({ file: path.join(images, image.name), label });
      }
    }
  }
  for (const wnid of labelOf.keys()) {
    if (!found.has(wnid)) {
      throw new DatasetFileError(
        path.join(train, wnid),
        `missing folder for class ${wnid} of wnids.txt`,
      );
    }
  }
  return entries;
}

function valEntries(dir: string, labelOf: ReadonlyMap<string, number>): Entry[] {
  const annotations = path.join(dir, 'val', 'val_annotations.txt');
  const images = path.join(dir, 'val', 'images');
  const entries: Entry[] = [];
  readText(annotations)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const [file, wnid] = line.split('\t');
      if (!file || !wnid) {
        throw new DatasetFileError(annotations, `line ${i + 1} is not "<file>\\t<wnid>\\t..."`);
      }
      const label = labelOf.get(wnid.trim());
      if (label === undefined) {
        throw new DatasetFileError(annotations, `line ${i + 1}: class ${wnid} is not in wnids.txt`);
      }
      entries.push({ file: path.join(images, file.trim()), label });
    });
  if (entries.length === 0) throw new DatasetFileError(annotations, 'lists no images');
  return entries;
}

function decodeImage(file: string, into: Uint8Array, offset: number): void {
  if (!existsSync(file)) throw new DatasetFileError(file, 'missing image');
  let image: { width: number; height: number; data: Uint8Array };
  try {
    // Strict: a tolerant decode fills a damaged scan with grey, which would train on garbage.
    image = jpeg.decode(readFileSync(file), {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
    });
  } catch (error) {
    throw new DatasetFileError(file, `undecodable JPEG (${(error as Error).message})`);
  }
  if (image.width !== width || image.height !== height) {
    throw new DatasetFileError(
      file,
      `image is ${image.width}x${image.height}, expected ${width}x${height}`,
    );
  }
  into.set(image.data, offset);
}

/** Decodes the entries the chooser keeps, in its order. */
function decodeSplit(entries: readonly Entry[], name: SplitName, choose: SubsetChooser): Split {
  const order = choose(name, entries.length) ?? Int32Array.from(entries, (_, i) => i);
  const images = new Uint8Array(order.length * IMAGE_BYTES);
  const labels = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const entry = entries[order[i]!]!;
    decodeImage(entry.file, images, i * IMAGE_BYTES);
    labels[i] = entry.label;
  }
  return { images, labels, size: order.length };
}

export async function readTinyImageNet(dir: string, choose: SubsetChooser): Promise<ReadResult> {
  const wnids = readWnids(dir);
  const labelOf = new Map(wnids.map((wnid, i) => [wnid, i]));
  const train = trainEntries(dir, labelOf);
  if (train.length === 0)
    throw new DatasetFileError(path.join(dir, 'train'), 'holds no JPEG images');
  const test = valEntries(dir, labelOf);
  return {
    train: decodeSplit(train, 'train', choose),
    test: decodeSplit(test, 'test', choose),
    classNames: classNames(dir, wnids),
    source: dir,
  };
}
