import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from './record.js';

/**
 * A results store is a directory; each finished run is one file `runs/<id>.json`, written
 * to a temporary name, flushed and renamed into place. Rename is atomic on POSIX file
 * systems, so a reader (or a crash) sees either no record or the whole record, and two
 * writers of the same run cannot interleave their bytes.
 */
export class ResultsStore {
  readonly runsDir: string;

  constructor(readonly root: string) {
    this.runsDir = path.join(root, 'runs');
  }

  static open(root: string): ResultsStore {
    const store = new ResultsStore(root);
    mkdirSync(store.runsDir, { recursive: true });
    return store;
  }

  recordPath(id: string): string {
    return path.join(this.runsDir, `${id}.json`);
  }

  ids(): string[] {
    return readdirSync(this.runsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }

  has(id: string): boolean {
    return this.ids().includes(id);
  }

  read(id: string): RunRecord {
    const file = this.recordPath(id);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`${file}: not a readable run record (${(error as Error).message})`);
    }
    const record = parsed as Partial<RunRecord>;
    if (record.schema !== 1 || record.id !== id) {
      throw new Error(`${file}: expected a run record with schema 1 and id '${id}'`);
    }
    return record as RunRecord;
  }

  records(): RunRecord[] {
    return this.ids().map((id) => this.read(id));
  }

  write(record: RunRecord): void {
    writeFileAtomic(this.recordPath(record.id), `${JSON.stringify(record)}\n`);
  }
}

export function writeFileAtomic(file: string, contents: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
