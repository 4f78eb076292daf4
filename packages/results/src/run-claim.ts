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
import { Worker } from 'node:worker_threads';
import { processIsGone } from './process-gone.js';

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
 *   (the sweep was killed); it is taken over at once. A reused pid makes a stale lock
 *   look alive; the holder printed by the sweep says which file to delete.
 * - A lock held on another host (a store on a shared file system, a cluster) cannot have
 *   its pid checked from here, so it carries a lease, `expiresAt`, which its holder
 *   renews while it runs (keepAlive(): every LEASE_MS / 6, from a worker thread, because
 *   a run on a CPU backend keeps the main thread busy for its whole length and starves
 *   its timers). A lock of another host whose lease has expired is stale: its node died
 *   or lost the store. Hosts' clocks must agree to well within LEASE_MS (NTP does).
 *   Locks written before leases existed carry none and are respected until deleted.
 * - Takeover is serialised by a marker `<id>.lock.takeover-<token of the stale lock>`,
 *   also created exclusively: only one process wins the right to delete a given stale
 *   lock, it checks the lock still holds that token, deletes it, and then claims through
 *   the same exclusive link as everybody else, so at most one claimant ever succeeds.
 *   A marker left by a taker that died is itself stale and is removed.
 * - A claim is released by deleting the lock, only while it still holds our token. A
 *   lease is renewed by renaming a complete new lock over it, only while it still holds
 *   our token; a successor can only have replaced it after our lease expired, i.e. after
 *   renewals failed for LEASE_MS, the one case where two hosts may execute a run at once
 *   (both then write the same record).
 */

/** How long a claim stays valid for other hosts without being renewed. */
export const LEASE_MS = 3 * 60_000;

export interface ClaimHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Random and unique per claim, so a holder can tell its lock from a successor's. */
  token: string;
  /** End of the lease (ISO time); absent in locks written before leases, which never expire. */
  expiresAt?: string;
}

/**
 * A claim won, with the stale holder whose lock was taken over to win it (null when the
 * run was free), or the live holder that keeps it (null while another process is taking
 * a stale lock over).
 */
export type ClaimAttempt =
  | { claimed: true; claim: RunClaim; tookOver: ClaimHolder | null }
  | { claimed: false; holder: ClaimHolder | null };

export interface ClaimOptions {
  /** Lease length; LEASE_MS unless a test needs another. */
  leaseMs?: number;
}

/** Renews a claim's lease until stopped; see RunClaim.keepAlive(). */
export interface LeaseRenewal {
  /** Stops renewing; once it resolves, no renewal can touch the lock any more. */
  stop(): Promise<void>;
}

export class RunClaim {
  constructor(
    readonly file: string,
    readonly holder: ClaimHolder,
    readonly leaseMs = LEASE_MS,
  ) {}

  /** Whether the lock file still names this claim. */
  held(): boolean {
    return readHolder(this.file)?.token === this.holder.token;
  }

  release(): void {
    if (this.held()) rmSync(this.file, { force: true });
  }

  /**
   * Renews the lease every `everyMs` from a worker thread, so renewals go on while the
   * main thread computes; stops by itself once the lock names another claim. Stop it
   * (and await that) before release(), or a renewal in flight could recreate the lock.
   */
  keepAlive(everyMs = this.leaseMs / 6): LeaseRenewal {
    const worker = new Worker(RENEWAL_WORKER, {
      eval: true,
      workerData: { file: this.file, holder: this.holder, leaseMs: this.leaseMs, everyMs },
    });
    // A renewal that cannot run lets the lease lapse: another host may then take the run
    // over and both write the same record, which is the documented worst case.
    worker.on('error', () => {});
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.unref();
    return {
      // The worker handles the message between two renewals, never inside one; ref() so
      // that the process waits for it rather than ending with the stop unsettled.
      stop: async () => {
        worker.ref();
        worker.postMessage('stop');
        await exited;
      },
    };
  }
}

/**
 * The renewal loop, as CommonJS source: a worker evaluates it, so it needs no file of its
 * own next to a single-file bundle. It writes the renewed holder to a private temporary
 * file, flushes it and renames it over the lock, so a reader never sees half a lock.
 */
const RENEWAL_WORKER = `
const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const { file, holder, leaseMs, everyMs } = workerData;
// Named like createExclusive's, so that a killed holder's leftover says whose it was.
const temporary = [file, holder.hostname, holder.pid, holder.token, 'renew'].join('.');
function renew() {
  let current;
  try {
    current = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return true; // unreadable for a moment (being replaced): try again next time
  }
  if (current.token !== holder.token) return false;
  const renewed = { ...holder, expiresAt: new Date(Date.now() + leaseMs).toISOString() };
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(renewed) + '\\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  return true;
}
const timer = setInterval(() => {
  try {
    if (!renew()) clearInterval(timer);
  } catch {
    // a transient file-system error: the next renewal retries well within the lease
  }
}, everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  parentPort.close();
});
`;

/** Contested takeovers give up after this many rounds; the caller retries later. */
const MAX_ATTEMPTS = 8;

/**
 * Tries once (without waiting) to claim `file`. Returns the claim, or the live holder
 * (null when the lock is being taken over by another process at this very moment).
 */
export function claimFile(file: string, options: ClaimOptions = {}): ClaimAttempt {
  const leaseMs = options.leaseMs ?? LEASE_MS;
  mkdirSync(path.dirname(file), { recursive: true });
  let holder: ClaimHolder | null = null;
  let tookOver: ClaimHolder | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const mine = newHolder(leaseMs);
    if (createExclusive(file, mine)) {
      return { claimed: true, claim: new RunClaim(file, mine, leaseMs), tookOver };
    }
    holder = readHolder(file);
    if (holder === null) continue; // released (or being replaced) between our two steps
    if (!isStale(holder)) return { claimed: false, holder };
    if (!takeOver(file, holder, leaseMs)) return { claimed: false, holder: null };
    tookOver = holder;
  }
  return { claimed: false, holder };
}

/**
 * Whether `holder` may be taken over: a dead process of this host, or a claim of another
 * host whose lease has expired.
 */
export function isStale(holder: ClaimHolder, now = Date.now()): boolean {
  if (holder.hostname === os.hostname()) return processIsGone(holder.hostname, holder.pid);
  return holder.expiresAt !== undefined && Date.parse(holder.expiresAt) < now;
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

function newHolder(leaseMs: number): ClaimHolder {
  const now = Date.now();
  return {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date(now).toISOString(),
    token: randomBytes(8).toString('hex'),
    expiresAt: new Date(now + leaseMs).toISOString(),
  };
}

function createExclusive(file: string, holder: ClaimHolder): boolean {
  // <lock>.<hostname>.<pid>.<token>.tmp: a crash leaves it behind, and its name says whose
  // it was (ResultsStore.cleanLeftovers removes it once that process is gone).
  const temporary = `${file}.${holder.hostname}.${holder.pid}.${holder.token}.tmp`;
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
function takeOver(file: string, stale: ClaimHolder, leaseMs: number): boolean {
  const marker = `${file}.takeover-${stale.token}`;
  if (!createExclusive(marker, newHolder(leaseMs))) {
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
