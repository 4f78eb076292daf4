import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crashPoint } from './crash-point.js';

/**
 * Writes `contents` to a temporary file beside `file`, flushes it and renames it into
 * place. Rename is atomic on POSIX file systems, so a reader (or a crash) sees either the
 * old file or the whole new one, and two writers cannot interleave their bytes.
 *
 * The temporary file is `<file>.<hostname>.<pid>.<8 hex>.tmp`: a crash leaves it behind,
 * and its name says which process wrote it, so that a later sweep can tell a dead
 * writer's leftover (see parseTemporaryName) from a write in progress.
 */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${os.hostname()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const write = (part: string | Uint8Array) =>
      typeof part === 'string' ? writeSync(fd, part) : writeSync(fd, part);
    crashPoint('atomic-write:partial', () =>
      write(contents.slice(0, Math.floor(contents.length / 2))),
    );
    write(contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  crashPoint('atomic-write:before-rename');
  renameSync(temporary, file);
}

/** What a temporary file's name says: the file it was to become, and its writer. */
export interface TemporaryName {
  /** The file name (not path) the temporary was to be renamed to. */
  target: string;
  /** null in names written before the hostname was part of them (this host's). */
  hostname: string | null;
  pid: number;
}

/**
 * Reads a name written by writeFileAtomic (`index.json.host.1234.0a1b2c3d.tmp`, or
 * `index.json.1234.0a1b2c3d.tmp` from before hostnames); null for any other name.
 * `extension` is how the target's name ends (".json"): hostnames may hold dots, so the
 * name is cut after the target's extension.
 */
export function parseTemporaryName(name: string, extension: string): TemporaryName | null {
  const at = name.indexOf(`${extension}.`);
  if (at < 0 || !name.endsWith('.tmp')) return null;
  const target = name.slice(0, at + extension.length);
  const parts = name.slice(target.length + 1, -'.tmp'.length).split('.');
  const [pid, hex] = parts.slice(-2);
  if (parts.length < 2 || !/^\d+$/.test(pid ?? '') || !/^[0-9a-f]{8}$/.test(hex ?? '')) return null;
  const hostname = parts.length > 2 ? parts.slice(0, -2).join('.') : null;
  return { target, hostname, pid: Number(pid) };
}
