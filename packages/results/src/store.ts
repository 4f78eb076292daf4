import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseTemporaryName, writeFileAtomic } from './atomic-write.js';
import { crashPoint } from './crash-point.js';
import { type JournalEntry, RunJournal, readJournal } from './journal.js';
import { fieldPath, readJsonFile } from './json-file.js';
import { processIsGone } from './process-gone.js';
import { type RunRecord, runRecordSchema } from './record.js';
import { type RunCheckpoint, runCheckpointSchema } from './run-checkpoint.js';
import { type ClaimAttempt, claimFile, readHolder } from './run-claim.js';
import { SelectionPhaseStore } from './selection-phase.js';
import {
  decodeTraining,
  encodeTraining,
  type SavedTraining,
  summarizeTraining,
  type TrainingSummary,
} from './training-checkpoint.js';

const indexEntrySchema = z.object({
  id: z.string(),
  experiment: z.string(),
  method: z.string(),
  arch: z.string(),
  seed: z.number(),
  finishedAt: z.string(),
});
const indexFileSchema = z.object({ schema: z.literal(1), runs: z.array(indexEntrySchema) });

/** One line of the store's index: enough to list and filter runs without reading them. */
export type IndexEntry = z.infer<typeof indexEntrySchema>;

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

/** What runs/<id>.json holds: a finished run, something that is not one, or nothing. */
export type RecordState =
  | { state: 'finished'; record: RunRecord }
  | { state: 'damaged'; reason: string }
  | { state: 'absent' };

/** What checkpoints/<id>.json holds: an unfinished run's built targets, something unreadable, or nothing. */
export type CheckpointState =
  | { state: 'saved'; checkpoint: RunCheckpoint }
  | { state: 'damaged'; reason: string }
  | { state: 'absent' };

/** What cleanLeftovers() did, one line per file, for the log. */
export interface Cleanup {
  /** Complete records left in temporary files by a killed writer, now in runs/. */
  adopted: string[];
  /** Leftovers of dead writers removed: `path (why)`. */
  removed: string[];
}

/**
 * A results store is a directory of plain files, safe against crashes and against several
 * sweeps writing at once:
 *
 *   runs/<id>.json        a finished run's RunRecord: the only source of truth
 *   runs/damaged/         records that could not be read, moved aside with the reason
 *   claims/<id>.lock      who is executing the run right now (see run-claim.ts)
 *   journals/<id>.jsonl   events of the attempt in progress, replaced by a new attempt
 *   checkpoints/<id>.json the targets an unfinished run has built (see run-checkpoint.ts),
 *                         resumed by its next attempt, removed when it finishes
 *   checkpoints/<id>.training.bin  its training in progress after its last finished epoch
 *                         (see training-checkpoint.ts), likewise
 *   failures/<id>.json    the last failed attempt, removed when the run succeeds
 *   index.json            id -> summary of finished runs, a cache of runs/
 *
 * Every file that is read as a whole is written to a temporary name, flushed and renamed
 * into place (atomic on POSIX file systems), so a crash leaves either no file or the whole
 * file, plus at most a temporary file that cleanLeftovers() adopts or removes. A finished
 * run is never written twice with different content by two sweeps because a run is only
 * executed under its claim. Every record read is validated against runRecordSchema. The
 * index is rebuilt from runs/ whenever it is unreadable or lacks a run, so losing or
 * damaging it loses nothing and never fails a run.
 */
export class ResultsStore {
  readonly runsDir: string;
  readonly damagedDir: string;
  readonly staleDir: string;
  readonly claimsDir: string;
  readonly journalsDir: string;
  readonly failuresDir: string;
  readonly checkpointsDir: string;
  readonly indexFile: string;
  /** The selection phases runs that select alike replay (see SelectionPhaseStore). */
  readonly selections: SelectionPhaseStore;

  constructor(readonly root: string) {
    this.runsDir = path.join(root, 'runs');
    this.damagedDir = path.join(this.runsDir, 'damaged');
    this.staleDir = path.join(this.runsDir, 'stale');
    this.claimsDir = path.join(root, 'claims');
    this.journalsDir = path.join(root, 'journals');
    this.failuresDir = path.join(root, 'failures');
    this.checkpointsDir = path.join(root, 'checkpoints');
    this.indexFile = path.join(root, 'index.json');
    this.selections = new SelectionPhaseStore(path.join(root, 'selections'));
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

  /** Ids of every file in runs/, finished or damaged. */
  ids(): string[] {
    return jsonStems(this.runsDir);
  }

  /** Whether run `id` is finished: its record exists and is valid. */
  has(id: string): boolean {
    return this.inspect(id).state === 'finished';
  }

  inspect(id: string): RecordState {
    if (!existsSync(this.recordPath(id))) return { state: 'absent' };
    try {
      return { state: 'finished', record: this.read(id) };
    } catch (error) {
      return { state: 'damaged', reason: (error as Error).message };
    }
  }

  /** The record of run `id`; throws, naming the file and the failing field, when it is not valid. */
  read(id: string): RunRecord {
    const file = this.recordPath(id);
    const record = readJsonFile(file, runRecordSchema, 'run record');
    if (record.id !== id) {
      throw new Error(
        `${file}: not a valid run record:\n  id: expected '${id}', got '${record.id}'`,
      );
    }
    return record;
  }

  /** Every finished run; throws one error naming every record that is not valid. */
  records(): RunRecord[] {
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const id of this.ids()) {
      try {
        records.push(this.read(id));
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `${problems.join('\n')}\n${this.root}: ${problems.length} damaged record(s); ` +
          '`prunefuse run` on its config moves them to runs/damaged/ and computes those runs again',
      );
    }
    return records;
  }

  /**
   * Writes a finished run atomically and adds it to the index. A record that does not
   * satisfy the schema (a NaN turns into null in JSON) is refused before it reaches runs/.
   */
  write(record: RunRecord): void {
    const checked = runRecordSchema.safeParse(record);
    if (!checked.success) {
      const problems = checked.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`);
      throw new Error(
        `run ${record.id}: refusing to store an invalid record:\n  ${problems.join('\n  ')}`,
      );
    }
    writeFileAtomic(this.recordPath(record.id), `${JSON.stringify(record)}\n`);
    crashPoint('store:record-written');
    this.updateIndex((entries) => entries.set(record.id, indexEntry(record)));
  }

  /**
   * Moves the record of run `id` to runs/damaged/<id>.<time>.json (unreadable or invalid)
   * or runs/stale/<id>.<time>.json (computed by another commit, recomputed on request),
   * with the reason beside it in <id>.<time>.reason.txt, so that the run can be computed
   * again without losing what was there. Call it under the run's claim. Returns the new
   * path, or null when the file was gone already.
   */
  moveAside(
    id: string,
    reason: string,
    { into = 'damaged' }: { into?: 'damaged' | 'stale' } = {},
  ): string | null {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const folder = into === 'damaged' ? this.damagedDir : this.staleDir;
    const destination = path.join(folder, `${id}.${stamp}.json`);
    if (!existsSync(this.recordPath(id))) return null;
    writeFileAtomic(`${destination.slice(0, -'.json'.length)}.reason.txt`, `${reason}\n`);
    try {
      renameSync(this.recordPath(id), destination);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    this.updateIndex((entries) => entries.delete(id));
    return destination;
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

  checkpointPath(id: string): string {
    return path.join(this.checkpointsDir, `${id}.json`);
  }

  /** The checkpoint of unfinished run `id`; a damaged one says why (the run then builds every target). */
  readCheckpoint(id: string): CheckpointState {
    const file = this.checkpointPath(id);
    if (!existsSync(file)) return { state: 'absent' };
    try {
      const checkpoint = readJsonFile(file, runCheckpointSchema, 'run checkpoint');
      if (checkpoint.id !== id)
        throw new Error(`${file}: holds run '${checkpoint.id}', not '${id}'`);
      return { state: 'saved', checkpoint };
    } catch (error) {
      return { state: 'damaged', reason: (error as Error).message };
    }
  }

  /** Saves a run's checkpoint atomically; call it under the run's claim. */
  saveCheckpoint(checkpoint: RunCheckpoint): void {
    writeFileAtomic(this.checkpointPath(checkpoint.id), `${JSON.stringify(checkpoint)}\n`);
    crashPoint('store:checkpoint-saved');
  }

  trainingCheckpointPath(id: string): string {
    return path.join(this.checkpointsDir, `${id}${TRAINING_CHECKPOINT}`);
  }

  /** The training run `id` had in progress; a damaged file says why (that training then starts afresh). */
  readTrainingCheckpoint(
    id: string,
  ):
    | { state: 'saved'; training: SavedTraining }
    | { state: 'damaged'; reason: string }
    | { state: 'absent' } {
    const file = this.trainingCheckpointPath(id);
    if (!existsSync(file)) return { state: 'absent' };
    try {
      return { state: 'saved', training: decodeTraining(id, readFileSync(file)) };
    } catch (error) {
      return { state: 'damaged', reason: `${file}: ${(error as Error).message}` };
    }
  }

  /**
   * What run `id`'s training checkpoint says of itself, read from its header alone (for
   * listings: the values are megabytes); checked as readTrainingCheckpoint checks it.
   */
  readTrainingSummary(
    id: string,
  ):
    | { state: 'saved'; summary: TrainingSummary }
    | { state: 'damaged'; reason: string }
    | { state: 'absent' } {
    const file = this.trainingCheckpointPath(id);
    if (!existsSync(file)) return { state: 'absent' };
    let fd: number | null = null;
    try {
      fd = openSync(file, 'r');
      const handle = fd;
      const summary = summarizeTraining(id, {
        size: fstatSync(handle).size,
        read(offset, length) {
          const bytes = new Uint8Array(length);
          const read = readSync(handle, bytes, 0, length, offset);
          if (read !== length) throw new Error(`read ${read} of ${length} bytes at ${offset}`);
          return bytes;
        },
      });
      return { state: 'saved', summary };
    } catch (error) {
      return { state: 'damaged', reason: `${file}: ${(error as Error).message}` };
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** Saves run `id`'s training in progress atomically (one file); call it under the run's claim. */
  saveTrainingCheckpoint(id: string, training: SavedTraining): void {
    writeFileAtomic(this.trainingCheckpointPath(id), encodeTraining(id, training));
    crashPoint('store:training-saved');
  }

  /** Removes both checkpoint files of run `id`. */
  removeCheckpoint(id: string): void {
    rmSync(this.checkpointPath(id), { force: true });
    rmSync(this.trainingCheckpointPath(id), { force: true });
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
    writeFileAtomic(this.failurePath(id), `${JSON.stringify(failure)}\n`);
    return failure;
  }

  clearFailure(id: string): void {
    rmSync(this.failurePath(id), { force: true });
  }

  failures(): FailureRecord[] {
    return jsonStems(this.failuresDir).map(
      (id) => readJson(this.failurePath(id), 'failure record') as FailureRecord,
    );
  }

  /**
   * Removes what killed processes left behind, so that a store after any crash looks as
   * if the crash had not happened (see Cleanup):
   * - claims whose holder is dead (taken over and released through the claim protocol);
   * - temporary files whose writer is dead: a complete, valid record of a run that has
   *   none is adopted (renamed into runs/ and indexed) rather than computed again; any
   *   other is removed;
   * - the journal, the checkpoint and the failure entry of a run that is finished.
   * Files of a run are only touched under its claim, so a live sweep executing that run
   * is never disturbed; files of live writers (this host) or of other hosts are kept.
   */
  cleanLeftovers(): Cleanup {
    const cleanup: Cleanup = { adopted: [], removed: [] };
    this.releaseDeadClaims(cleanup);
    const temporaries = new Map<string, string[]>();
    for (const name of listDir(this.runsDir)) {
      const parsed = parseTemporaryName(name, '.json');
      if (!parsed || !processIsGone(parsed.hostname ?? os.hostname(), parsed.pid)) continue;
      const id = parsed.target.slice(0, -'.json'.length);
      temporaries.set(id, [...(temporaries.get(id) ?? []), path.join(this.runsDir, name)]);
    }
    const journals = listDir(this.journalsDir)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => name.slice(0, -'.jsonl'.length));
    const ids = new Set([
      ...temporaries.keys(),
      ...journals,
      ...jsonStems(this.failuresDir),
      ...checkpointIds(this.checkpointsDir),
    ]);
    for (const id of [...ids].sort()) {
      const attempt = this.claim(id);
      if (!attempt.claimed) continue;
      try {
        this.cleanRun(id, temporaries.get(id) ?? [], cleanup);
      } finally {
        attempt.claim.release();
      }
    }
    for (const dir of [this.root, this.failuresDir, this.checkpointsDir]) {
      for (const name of listDir(dir)) {
        const parsed =
          parseTemporaryName(name, '.json') ?? parseTemporaryName(name, TRAINING_CHECKPOINT);
        if (parsed && processIsGone(parsed.hostname ?? os.hostname(), parsed.pid)) {
          rmSync(path.join(dir, name), { force: true });
          cleanup.removed.push(`${path.join(dir, name)} (temporary file of a killed writer)`);
        }
      }
    }
    return cleanup;
  }

  /**
   * The index of finished runs, sorted by id. Runs missing from index.json (a crash
   * between writing a record and indexing it, or a store written by an older version) are
   * read from runs/ and indexed; entries whose record is gone are dropped; an unreadable
   * index.json is rebuilt. Damaged records are left out.
   */
  index(): IndexEntry[] {
    const ids = this.ids();
    const entries = this.readIndex();
    const stale =
      entries === null || entries.size !== ids.length || ids.some((id) => !entries.has(id));
    if (!stale) return sortedEntries(entries);
    const repaired = entries ?? new Map<string, IndexEntry>();
    const before = JSON.stringify(sortedEntries(repaired));
    this.repair(repaired, ids);
    if (entries === null || JSON.stringify(sortedEntries(repaired)) !== before) {
      this.updateIndex((onDisk) => this.repair(onDisk, this.ids()));
    }
    return sortedEntries(repaired);
  }

  private failurePath(id: string): string {
    return path.join(this.failuresDir, `${id}.json`);
  }

  private cleanRun(id: string, temporaries: readonly string[], cleanup: Cleanup): void {
    for (const temporary of temporaries) {
      if (!this.has(id) && this.adopt(id, temporary)) {
        cleanup.adopted.push(`${temporary} -> ${this.recordPath(id)}`);
      } else {
        rmSync(temporary, { force: true });
        cleanup.removed.push(`${temporary} (temporary record of a killed writer)`);
      }
    }
    if (!this.has(id)) return;
    if (existsSync(this.journalPath(id))) {
      this.removeJournal(id);
      cleanup.removed.push(`${this.journalPath(id)} (journal of a finished run)`);
    }
    for (const file of [this.checkpointPath(id), this.trainingCheckpointPath(id)]) {
      if (!existsSync(file)) continue;
      rmSync(file, { force: true });
      cleanup.removed.push(`${file} (checkpoint of a finished run)`);
    }
    if (existsSync(this.failurePath(id))) {
      this.clearFailure(id);
      cleanup.removed.push(`${this.failurePath(id)} (failure of a run finished since)`);
    }
  }

  /** Renames a dead writer's temporary record into place when it is a complete, valid record of `id`. */
  private adopt(id: string, temporary: string): boolean {
    let record: RunRecord;
    try {
      record = readJsonFile(temporary, runRecordSchema, 'run record');
    } catch {
      return false;
    }
    if (record.id !== id) return false;
    const damaged = this.inspect(id);
    if (damaged.state === 'damaged') this.moveAside(id, damaged.reason);
    renameSync(temporary, this.recordPath(id));
    this.updateIndex((entries) => entries.set(id, indexEntry(record)));
    return true;
  }

  private releaseDeadClaims(cleanup: Cleanup): void {
    for (const name of listDir(this.claimsDir).filter((n) => n.endsWith('.lock'))) {
      const file = path.join(this.claimsDir, name);
      let holder: ReturnType<typeof readHolder>;
      try {
        holder = readHolder(file);
      } catch {
        continue; // not a claim file: claimFile names it when the run is reached
      }
      if (holder === null || !processIsGone(holder.hostname, holder.pid)) continue;
      // Through the claim protocol, so that two sweeps cleaning at once cannot remove a
      // claim that a third has just taken over.
      const attempt = claimFile(file);
      if (!attempt.claimed) continue;
      attempt.claim.release();
      cleanup.removed.push(`${file} (claim of dead pid ${holder.pid})`);
    }
    // What claiming leaves beside a lock for a moment (run-claim.ts): the private copy a
    // lock is linked from and a lease renewal, both named with their writer, and a
    // takeover marker, which holds its writer.
    for (const name of listDir(this.claimsDir)) {
      const file = path.join(this.claimsDir, name);
      const temporary = CLAIM_TEMPORARY.exec(name);
      let writer: { hostname: string; pid: number } | null = null;
      if (temporary) {
        writer = { hostname: temporary[1]!, pid: Number(temporary[2]) };
      } else if (TAKEOVER_MARKER.test(name)) {
        try {
          writer = readHolder(file);
        } catch {
          continue; // not written by run-claim.ts: left for a person to judge
        }
      }
      if (writer === null || !processIsGone(writer.hostname, writer.pid)) continue;
      rmSync(file, { force: true });
      cleanup.removed.push(`${file} (claim file of dead pid ${writer.pid})`);
    }
  }

  /** Drops entries whose run is not finished and indexes finished runs the index lacks. */
  private repair(entries: Map<string, IndexEntry>, ids: readonly string[]): void {
    const present = new Set(ids);
    for (const id of entries.keys()) if (!present.has(id)) entries.delete(id);
    for (const id of ids) {
      if (entries.has(id)) continue;
      const found = this.inspect(id);
      if (found.state === 'finished') entries.set(id, indexEntry(found.record));
    }
  }

  /** The entries of index.json; null when it is missing, unreadable or not an index. */
  private readIndex(): Map<string, IndexEntry> | null {
    if (!existsSync(this.indexFile)) return null;
    try {
      const index = readJsonFile(this.indexFile, indexFileSchema, 'store index');
      return new Map(index.runs.map((entry) => [entry.id, entry]));
    } catch {
      return null;
    }
  }

  /**
   * Read-modify-write of index.json under the claim `claims/index.lock`, so that two
   * sweeps finishing runs at the same moment do not drop each other's entries. An
   * unreadable index is rebuilt from runs/ first. When the lock stays busy the update is
   * skipped: index() repairs the index from runs/.
   */
  private updateIndex(change: (entries: Map<string, IndexEntry>) => void): void {
    const attempt = waitForClaim(() => claimFile(path.join(this.claimsDir, 'index.lock')));
    if (!attempt) return;
    try {
      let entries = this.readIndex();
      if (entries === null) {
        entries = new Map();
        this.repair(entries, this.ids());
      }
      change(entries);
      writeFileAtomic(
        this.indexFile,
        `${JSON.stringify({ schema: 1, runs: sortedEntries(entries) }, null, 1)}\n`,
      );
    } finally {
      attempt.release();
    }
  }
}

/** `<id>.lock[.takeover-<token>].<hostname>.<pid>.<token>.(tmp|renew)`; hostnames may hold dots. */
const CLAIM_TEMPORARY =
  /^.+?\.lock(?:\.takeover-[0-9a-f]+)?\.(.+)\.(\d+)\.[0-9a-f]{16}\.(?:tmp|renew)$/;
const TAKEOVER_MARKER = /^.+?\.lock\.takeover-[0-9a-f]+$/;

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

function sortedEntries(entries: Map<string, IndexEntry>): IndexEntry[] {
  return [...entries.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const TRAINING_CHECKPOINT = '.training.bin';

/** Runs with a checkpoint file of either kind in `dir`. */
function checkpointIds(dir: string): string[] {
  const ids = listDir(dir).flatMap((name) => {
    for (const ending of [TRAINING_CHECKPOINT, '.json']) {
      if (name.endsWith(ending)) return [name.slice(0, -ending.length)];
    }
    return [];
  });
  return [...new Set(ids)];
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function jsonStems(dir: string): string[] {
  return listDir(dir)
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
