import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { extract } from 'tar';

/**
 * Official archives hold one top folder (cifar-10-batches-bin/, tiny-imagenet-200/);
 * unpacking drops it so the data dir itself holds the files. Entries outside it are
 * skipped, and an entry that would escape `dir` is refused.
 */
function innerPath(entry: string, topFolder: string): string | null {
  const prefix = `${topFolder}/`;
  if (!entry.startsWith(prefix)) return null;
  const inner = entry.slice(prefix.length);
  return inner === '' ? null : inner;
}

export async function unpackTarGz(archive: string, dir: string, topFolder: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  // node-tar refuses '..' and absolute entries by itself; strict turns its warnings
  // (a damaged header, a short file) into errors instead of a half-unpacked folder.
  try {
    await extract({
      file: archive,
      cwd: dir,
      strip: 1,
      strict: true,
      filter: (entry) => innerPath(entry.replace(/^\.\//, ''), topFolder) !== null,
    });
  } catch (error) {
    throw new Error(`${archive}: not a readable tar.gz archive (${(error as Error).message})`);
  }
}

export async function unpackZip(archive: string, dir: string, topFolder: string): Promise<void> {
  // The central directory is read from the whole file, so every zip variant unpacks
  // (streaming readers cannot size entries written with data descriptors).
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(await readFile(archive));
  } catch (error) {
    throw new Error(`${archive}: not a readable zip archive (${(error as Error).message})`);
  }
  const root = path.resolve(dir);
  for (const [entry, data] of Object.entries(files)) {
    const inner = innerPath(entry, topFolder);
    if (inner === null || entry.endsWith('/')) continue;
    const target = path.resolve(root, inner);
    if (!target.startsWith(`${root}${path.sep}`)) {
      throw new Error(`${archive}: entry ${entry} would unpack outside ${root}`);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
}
