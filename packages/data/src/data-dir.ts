import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATALOG } from './catalog.js';
import type { DatasetName } from './dataset.js';

/** Where Debian's `dataset-fashion-mnist` package installs the official files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** The folder under which datasets without a system location live: $PRUNEFUSE_DATA_DIR or ~/.cache. */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PRUNEFUSE_DATA_DIR || path.join(os.homedir(), '.cache', 'prunefuse', 'datasets');
}

/**
 * The absolute folder a dataset is read from and fetched into: `dataDir` when given,
 * else its default (the Debian folder for Fashion-MNIST, `<dataRoot>/<official folder>`
 * for the others).
 */
export function defaultDataDir(name: DatasetName, env: NodeJS.ProcessEnv = process.env): string {
  if (name === 'fashion-mnist') return FASHION_MNIST_DEBIAN_DIR;
  return path.join(dataRoot(env), CATALOG[name].officialFolder ?? name);
}

export function resolveDataDir(name: DatasetName, dataDir: string | null | undefined): string {
  return path.resolve(dataDir ?? defaultDataDir(name));
}

/**
 * The folder that actually holds the files: `dir` itself, or its official sub-folder
 * when a user points at the folder an archive was unpacked into (`tar xzf` leaves
 * cifar-10-batches-bin/ there).
 */
export function locateFiles(name: DatasetName, dir: string): string {
  const { officialFolder, requiredFiles } = CATALOG[name];
  const first = requiredFiles[0];
  if (officialFolder === null || first === undefined || existsSync(path.join(dir, first)))
    return dir;
  const nested = path.join(dir, officialFolder);
  return existsSync(path.join(nested, first)) ? nested : dir;
}
