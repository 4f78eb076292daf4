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

/**
 * What a run of dataset `name` would miss in `dataDir` (null: the default folder), as
 * one message naming the folder, the missing files and how to get them; null when every
 * required file is there. Checks presence only (loading validates contents), so that a
 * sweep can refuse to start before creating anything.
 */
export function missingDatasetFiles(name: DatasetName, dataDir: string | null): string | null {
  const { requiredFiles } = CATALOG[name];
  if (requiredFiles.length === 0) return null;
  const dir = locateFiles(name, resolveDataDir(name, dataDir));
  // Fashion-MNIST's files may also lie gunzipped beside where the .gz would be.
  const present = (file: string) =>
    existsSync(path.join(dir, file)) ||
    (file.endsWith('.gz') && existsSync(path.join(dir, file.slice(0, -'.gz'.length))));
  const missing = requiredFiles.filter((file) => !present(file));
  if (missing.length === 0) return null;
  return `${name}: ${dir} lacks ${missing.join(', ')}; ${pointAtFiles(name, dataDir)}`;
}

/**
 * Every way to give a command dataset `name`'s files, for any message about missing ones:
 * fetching them, and each place a folder can be named (flag, config field, environment),
 * with the default location that applies when none is.
 */
export function pointAtFiles(name: DatasetName, dataDir: string | null = null): string {
  const fetch = `\`pnpm prunefuse data fetch ${name}${dataDir === null ? '' : ` --data-dir ${dataDir}`}\``;
  const get =
    name === 'fashion-mnist'
      ? `install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or run ${fetch}`
      : `run ${fetch}`;
  const folder = CATALOG[name].officialFolder;
  // Fashion-MNIST's default is Debian's folder, which PRUNEFUSE_DATA_DIR does not move.
  const environment =
    name === 'fashion-mnist'
      ? ''
      : `, or PRUNEFUSE_DATA_DIR=ROOT (a folder holding ${folder ?? name}/)`;
  return (
    `${get}; or point at a folder that holds the files: --data-dir DIR (run, data info, data fetch), ` +
    `dataset.dataDir in the experiment config${environment}; default location: ${defaultDataDir(name)}`
  );
}
