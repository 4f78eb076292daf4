import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Exclusive claims on a run, so that two sweeps sharing a store never execute the same
 * run at the same time.
 *
 * The rule:
 * - A claim is the file `<id>.lock` holding `{pid, hostname, startedAt, token}`. It is
 *   created complete and exclusively: the holder is written to a private temporary file
 *   which is then hard-linked to the lock name; link(2) fails with EEXIST when the lock
 *   exists (the same guarantee as open with O_CREAT|O_EXCL), and a lock is never seen
 *   half written, even after a crash.
 * - A lock whose holder runs on this host and whose pid is no longer alive is stale
 *   (the sweep was killed); it may be taken over. A lock held on another host is always
 *   respected, since its pid cannot be checked from here: delete the file by hand if that
 *   host's sweep is gone. A reused pid makes a stale lock look alive; the holder printed
 *   by the sweep says which file to delete.
 * - Takeover is serialised by a marker `<id>.lock.takeover-<token of the stale lock>`,
 *   also created exclusively: only one process wins the right to delete a given stale
 *   lock, it checks the lock still holds that token, deletes it, and then claims through
 *   the same exclusive link as everybody else, so at most one claimant ever succeeds.
 *   A marker left by a taker that died is itself stale and is removed.
 * - A claim is released by deleting the lock, only while it still holds our token.
 */

export interface ClaimHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Random and unique per claim, so a holder can tell its lock from a successor's. */
  token: string;
}

export type ClaimAttempt =
  | { claimed: true; claim: RunClaim }
  | { claimed: false; holder: ClaimHolder | null };

export class RunClaim {
  constructor(
    readonly file: string,
    readonly holder: ClaimHolder,
  ) {}

  /** Whether the lock file still names this claim. */
  held(): boolean {
    return readHolder(this.file)?.token === this.holder.token;
  }

  release(): void {
    if (this.held()) rmSync(this.file, { force: true });
  }
}

/** Contested takeovers give up after this many rounds; the caller retries later. */
const MAX_ATTEMPTS = 8;

/**
 * Tries once (without waiting) to claim `file`. Returns the claim, or the live holder
 * (null when the lock is being taken over by another process at this very moment).
 */
export function claimFile(file: string): ClaimAttempt {
  mkdirSync(path.dirname(file), { recursive: true });
  let holder: ClaimHolder | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const mine = newHolder();
    if (createExclusive(file, mine)) return { claimed: true, claim: new RunClaim(file, mine) };
    holder = readHolder(file);
    if (holder === null) continue; // released (or being replaced) between our two steps
    if (!isStale(holder)) return { claimed: false, holder };
    if (!takeOver(file, holder)) return { claimed: false, holder: null };
  }
  return { claimed: false, holder };
}

/** Whether `holder` is a dead process on this host. */
export function isStale(holder: ClaimHolder): boolean {
  if (holder.hostname !== os.hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function readHolder(file: string): ClaimHolder | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as ClaimHolder;
  } catch {
    throw new Error(
      `${file}: not a claim file (expected JSON with pid, hostname, startedAt, token); ` +
        'delete it if no sweep is running',
    );
  }
}

function newHolder(): ClaimHolder {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
}

function createExclusive(file: string, holder: ClaimHolder): boolean {
  const temporary = `${file}.${holder.token}.tmp`;
  const fd = openSync(temporary, 'wx');
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Removes the stale lock `stale` if this process wins its takeover marker. False when a
 * live process is taking it over right now; true when claiming may be tried again.
 */
function takeOver(file: string, stale: ClaimHolder): boolean {
  const marker = `${file}.takeover-${stale.token}`;
  if (!createExclusive(marker, newHolder())) {
    const taker = readHolder(marker);
    if (taker !== null && !isStale(taker)) return false;
    rmSync(marker, { force: true });
    return true;
  }
  try {
    if (readHolder(file)?.token === stale.token) rmSync(file, { force: true });
  } finally {
    rmSync(marker, { force: true });
  }
  return true;
}
