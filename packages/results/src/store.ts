import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { RunJournal, readJournal, type JournalEntry } from './journal.js';
import type { RunRecord } from './record.js';
import { type ClaimAttempt, claimFile } from './run-claim.js';

/** One line of the store's index: enough to list and filter runs without reading them. */
export interface IndexEntry {
  id: string;
  experiment: string;
  method: string;
  arch: string;
  seed: number;
  finishedAt: string;
}

/** Why the last attempt of a run failed; removed when a later attempt succeeds. */
export interface FailureRecord {
  schema: 1;
  id: string;
  experiment: string;
  message: string;
  stack: string | null;
  failedAt: string;
  pid: number;
  hostname: string;
}

/**
 * A results store is a directory of plain files, safe against crashes and against several
 * sweeps writing at once:
 *
 *   runs/<id>.json        a finished run's RunRecord: the only source of truth
 *   claims/<id>.lock      who is executing the run right now (see run-claim.ts)
 *   journals/<id>.jsonl   events of the attempt in progress, replaced by a new attempt
 *   failures/<id>.json    the last failed attempt, removed when the run succeeds
 *   index.json            id -> summary of finished runs, a cache of runs/
 *
 * Every file that is read as a whole is written to a temporary name, flushed and renamed
 * into place (atomic on POSIX file systems), so a crash leaves either no file or the whole
 * file. A finished run is never written twice with different content by two sweeps
 * because a run is only executed under its claim. The index is rebuilt from runs/ for
 * whatever it lacks, so losing an index update to a crash loses nothing.
 */
export class ResultsStore {
  readonly runsDir: string;
  readonly claimsDir: string;
  readonly journalsDir: string;
  readonly failuresDir: string;
  readonly indexFile: string;

  constructor(readonly root: string) {
    this.runsDir = path.join(root, 'runs');
    this.claimsDir = path.join(root, 'claims');
    this.journalsDir = path.join(root, 'journals');
    this.failuresDir = path.join(root, 'failures');
    this.indexFile = path.join(root, 'index.json');
  }

  static open(root: string): ResultsStore {
    const store = new ResultsStore(root);
    for (const dir of [store.runsDir, store.claimsDir, store.journalsDir, store.failuresDir]) {
      mkdirSync(dir, { recursive: true });
    }
    return store;
  }

  /** Whether `root` holds a store (without creating one). */
  static exists(root: string): boolean {
    return existsSync(path.join(root, 'runs'));
  }

  recordPath(id: string): string {
    return path.join(this.runsDir, `${id}.json`);
  }

  journalPath(id: string): string {
    return path.join(this.journalsDir, `${id}.jsonl`);
  }

  ids(): string[] {
    return jsonStems(this.runsDir);
  }

  has(id: string): boolean {
    return existsSync(this.recordPath(id));
  }

  read(id: string): RunRecord {
    const file = this.recordPath(id);
    const record = readJson(file, 'run record') as Partial<RunRecord>;
    if (record.schema !== 1 || record.id !== id) {
      throw new Error(`${file}: expected a run record with schema 1 and id '${id}'`);
    }
    return record as RunRecord;
  }

  records(): RunRecord[] {
    return this.ids().map((id) => this.read(id));
  }

  /** Writes a finished run atomically and adds it to the index. */
  write(record: RunRecord): void {
    writeFileAtomic(this.recordPath(record.id), `${JSON.stringify(record)}\n`);
    this.updateIndex((entries) => entries.set(record.id, indexEntry(record)));
  }

  /** Tries to claim run `id` for this process; see run-claim.ts for the rule. */
  claim(id: string): ClaimAttempt {
    return claimFile(path.join(this.claimsDir, `${id}.lock`));
  }

  /** Starts the journal of a new attempt of run `id`, replacing an interrupted one's. */
  startJournal(id: string): RunJournal {
    mkdirSync(this.journalsDir, { recursive: true });
    return RunJournal.start(this.journalPath(id), id);
  }

  journal(id: string): JournalEntry[] {
    return readJournal(this.journalPath(id));
  }

  removeJournal(id: string): void {
    rmSync(this.journalPath(id), { force: true });
  }

  recordFailure(id: string, experiment: string, error: unknown): FailureRecord {
    const failure: FailureRecord = {
      schema: 1,
      id,
      experiment,
      message: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? (error.stack ?? null) : null,
      failedAt: new Date().toISOString(),
      pid: process.pid,
      hostname: os.hostname(),
    };
    writeFileAtomic(path.join(this.failuresDir, `${id}.json`), `${JSON.stringify(failure)}\n`);
    return failure;
  }

  clearFailure(id: string): void {
    rmSync(path.join(this.failuresDir, `${id}.json`), { force: true });
  }

  failures(): FailureRecord[] {
    return jsonStems(this.failuresDir).map(
      (id) =>
        readJson(path.join(this.failuresDir, `${id}.json`), 'failure record') as FailureRecord,
    );
  }

  /**
   * The index of finished runs, sorted by id. Runs missing from index.json (a crash
   * between writing a record and indexing it, or a store written by an older version) are
   * read from runs/ and indexed; entries whose record is gone are dropped.
   */
  index(): IndexEntry[] {
    const ids = this.ids();
    const entries = this.readIndex();
    if (entries.size !== ids.length || ids.some((id) => !entries.has(id))) {
      const repair = (index: Map<string, IndexEntry>) => {
        for (const id of index.keys()) if (!this.has(id)) index.delete(id);
        for (const id of ids) if (!index.has(id)) index.set(id, indexEntry(this.read(id)));
      };
      repair(entries);
      this.updateIndex(repair);
    }
    return [...entries.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  private readIndex(): Map<string, IndexEntry> {
    if (!existsSync(this.indexFile)) return new Map();
    const index = readJson(this.indexFile, 'store index') as { runs?: IndexEntry[] };
    return new Map((index.runs ?? []).map((entry) => [entry.id, entry]));
  }

  /**
   * Read-modify-write of index.json under the claim `claims/index.lock`, so that two
   * sweeps finishing runs at the same moment do not drop each other's entries. When the
   * lock stays busy the update is skipped: index() repairs the index from runs/.
   */
  private updateIndex(change: (entries: Map<string, IndexEntry>) => void): void {
    const attempt = waitForClaim(() => claimFile(path.join(this.claimsDir, 'index.lock')));
    if (!attempt) return;
    try {
      const entries = this.readIndex();
      change(entries);
      const runs = [...entries.values()].sort((a, b) => a.id.localeCompare(b.id));
      writeFileAtomic(this.indexFile, `${JSON.stringify({ schema: 1, runs }, null, 1)}\n`);
    } finally {
      attempt.release();
    }
  }
}

const INDEX_LOCK_WAIT_MS = 5_000;
const INDEX_LOCK_POLL_MS = 5;

function waitForClaim(tryClaim: () => ClaimAttempt) {
  const deadline = Date.now() + INDEX_LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const attempt = tryClaim();
    if (attempt.claimed) return attempt.claim;
    if (Date.now() > deadline) return null;
    // The index lock is held for milliseconds; a synchronous pause keeps write() synchronous.
    Atomics.wait(pause, 0, 0, INDEX_LOCK_POLL_MS);
  }
}

function indexEntry(record: RunRecord): IndexEntry {
  return {
    id: record.id,
    experiment: record.config.experiment,
    method: record.config.method.name,
    arch: record.config.arch,
    seed: record.config.seed,
    finishedAt: record.finishedAt,
  };
}

function jsonStems(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not a readable ${what} (${(error as Error).message})`);
  }
}
