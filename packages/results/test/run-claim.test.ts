import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClaimHolder, claimFile, LEASE_MS } from '../src/run-claim.js';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-claim-'));
  lock = path.join(dir, 'run1.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeLock(holder: Partial<ClaimHolder>): void {
  const full: ClaimHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: 'feedfacefeedface',
    ...holder,
  };
  writeFileSync(lock, JSON.stringify(full));
}

function readLock(): ClaimHolder {
  return JSON.parse(readFileSync(lock, 'utf8')) as ClaimHolder;
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

/** Blocks this thread, as a run on a CPU backend does, so that its timers cannot fire. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('claim leases', () => {
  it('writes a lease of LEASE_MS with every claim', () => {
    const before = Date.now();
    const attempt = claimFile(lock);
    expect(attempt).toMatchObject({ claimed: true, tookOver: null });
    const expires = Date.parse(readLock().expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + LEASE_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + LEASE_MS);
  });

  it('takes over a claim of another host whose lease has expired, and says whose', () => {
    writeLock({ hostname: 'node-elsewhere', pid: 4242, expiresAt: inSeconds(-1), token: 'old' });
    const attempt = claimFile(lock);
    expect(attempt).toMatchObject({
      claimed: true,
      tookOver: { hostname: 'node-elsewhere', pid: 4242, token: 'old' },
    });
    expect(readLock()).toMatchObject({ hostname: os.hostname(), pid: process.pid });
    expect(readdirSync(dir)).toEqual(['run1.lock']);
  });

  it('respects a claim of another host while its lease runs, and one with no lease', () => {
    writeLock({ hostname: 'node-elsewhere', pid: deadPid(), expiresAt: inSeconds(60) });
    expect(claimFile(lock)).toMatchObject({
      claimed: false,
      holder: { hostname: 'node-elsewhere' },
    });
    writeLock({ hostname: 'node-elsewhere', pid: deadPid() });
    expect(claimFile(lock)).toMatchObject({
      claimed: false,
      holder: { hostname: 'node-elsewhere' },
    });
  });

  it('takes over a claim of this host at once when its process is dead, lease or not', () => {
    writeLock({ pid: deadPid(), expiresAt: inSeconds(60) });
    expect(claimFile(lock)).toMatchObject({ claimed: true, tookOver: { hostname: os.hostname() } });
  });

  it('keeps a claim of this host whose process lives, even with its lease expired', () => {
    writeLock({ pid: process.ppid, expiresAt: inSeconds(-60) });
    expect(claimFile(lock)).toMatchObject({ claimed: false, holder: { pid: process.ppid } });
  });

  it('renews the lease while the main thread is blocked, and never after stop()', async () => {
    const attempt = claimFile(lock, { leaseMs: 1_000 });
    if (!attempt.claimed) throw new Error('expected a claim');
    const first = Date.parse(readLock().expiresAt!);
    const renewal = attempt.claim.keepAlive(50);
    // The worker needs a moment to start; the main thread is blocked throughout.
    blockFor(1_500);
    const renewed = readLock();
    expect(renewed.token).toBe(attempt.claim.holder.token);
    expect(Date.parse(renewed.expiresAt!)).toBeGreaterThan(first);
    await renewal.stop();
    attempt.claim.release();
    blockFor(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops renewing once the lock names a successor, leaving the successor alone', async () => {
    const attempt = claimFile(lock, { leaseMs: 1_000 });
    if (!attempt.claimed) throw new Error('expected a claim');
    const renewal = attempt.claim.keepAlive(50);
    writeLock({ hostname: 'node-elsewhere', token: 'successor', expiresAt: inSeconds(30) });
    const successor = readFileSync(lock, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(readFileSync(lock, 'utf8')).toBe(successor);
    await renewal.stop();
  });
});
