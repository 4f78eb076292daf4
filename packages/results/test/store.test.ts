import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClaimHolder, ResultsStore, writeFileAtomic } from '../src/index.js';
import { fakeRecord } from './fixtures/fake-record.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');
const child = path.join(here, 'fixtures/store-child.ts');

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited, so is certainly not alive. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  return result.pid!;
}

function writeLock(file: string, holder: Partial<ClaimHolder>): void {
  const full: ClaimHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: 'feedfacefeedface',
    ...holder,
  };
  writeFileSync(file, JSON.stringify(full));
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(tsx, ['--conditions=source', child, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.stderr.on('data', (chunk) => {
      err += chunk;
    });
    proc.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`child ${code}: ${err}`)),
    );
  });
}

describe('ResultsStore records and index', () => {
  it('writes records atomically and reads them back', () => {
    const store = ResultsStore.open(root);
    store.write(fakeRecord('bbb', 2));
    store.write(fakeRecord('aaa', 1));
    expect(store.ids()).toEqual(['aaa', 'bbb']);
    expect(store.has('aaa')).toBe(true);
    expect(store.has('ccc')).toBe(false);
    expect(store.read('bbb').config.seed).toBe(2);
    expect(store.records().map((r) => r.id)).toEqual(['aaa', 'bbb']);
    expect(readdirSync(store.runsDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('indexes finished runs and repairs the index from runs/', () => {
    const store = ResultsStore.open(root);
    store.write(fakeRecord('aaa', 1));
    // A record that reached runs/ without its index update (a crash between the two).
    writeFileAtomic(store.recordPath('bbb'), JSON.stringify(fakeRecord('bbb', 7)));
    expect(store.index()).toEqual([
      expect.objectContaining({ id: 'aaa', seed: 1, method: 'random', experiment: 'unit' }),
      expect.objectContaining({ id: 'bbb', seed: 7, arch: 'resnet8' }),
    ]);
    const onDisk = JSON.parse(readFileSync(store.indexFile, 'utf8')) as { runs: { id: string }[] };
    expect(onDisk.runs.map((r) => r.id)).toEqual(['aaa', 'bbb']);
    rmSync(store.recordPath('aaa'));
    expect(store.index().map((e) => e.id)).toEqual(['bbb']);
  });

  it('names the file when a record is unreadable', () => {
    const store = ResultsStore.open(root);
    writeFileSync(store.recordPath('bad'), '{"schema": 1, "id": "ba');
    expect(() => store.read('bad')).toThrow(`${store.recordPath('bad')}: not valid JSON`);
    writeFileSync(store.recordPath('other'), JSON.stringify(fakeRecord('else')));
    expect(() => store.read('other')).toThrow(
      `${store.recordPath('other')}: not a valid run record:\n  id: expected 'other', got 'else'`,
    );
  });

  it('keeps every record when two processes write to the store at once', async () => {
    ResultsStore.open(root);
    await Promise.all([runChild(['write', root, 'a', '60']), runChild(['write', root, 'b', '60'])]);
    const store = ResultsStore.open(root);
    expect(store.ids()).toHaveLength(120);
    const indexed = JSON.parse(readFileSync(store.indexFile, 'utf8')) as { runs: unknown[] };
    expect(indexed.runs).toHaveLength(120);
    expect(store.index()).toHaveLength(120);
  });
});

describe('claims', () => {
  it('gives a run to one claimant until it is released', () => {
    const store = ResultsStore.open(root);
    const first = store.claim('run1');
    expect(first.claimed).toBe(true);
    const second = store.claim('run1');
    expect(second).toMatchObject({
      claimed: false,
      holder: { pid: process.pid, hostname: os.hostname() },
    });
    expect(store.claim('run2').claimed).toBe(true);
    if (first.claimed) first.claim.release();
    expect(store.claim('run1').claimed).toBe(true);
  });

  it('takes over a lock whose process is dead on this host', () => {
    const store = ResultsStore.open(root);
    const lock = path.join(store.claimsDir, 'run1.lock');
    writeLock(lock, { pid: deadPid() });
    const attempt = store.claim('run1');
    expect(attempt.claimed).toBe(true);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(readdirSync(store.claimsDir)).toEqual(['run1.lock']);
  });

  it('respects a lock held on another host, whose pid cannot be checked', () => {
    const store = ResultsStore.open(root);
    writeLock(path.join(store.claimsDir, 'run1.lock'), { pid: deadPid(), hostname: 'elsewhere' });
    expect(store.claim('run1')).toMatchObject({
      claimed: false,
      holder: { hostname: 'elsewhere' },
    });
  });

  it('leaves a stale lock alone while a live process is taking it over, not after it died', () => {
    const store = ResultsStore.open(root);
    const lock = path.join(store.claimsDir, 'run1.lock');
    writeLock(lock, { pid: deadPid(), token: 'aaaa' });
    const marker = `${lock}.takeover-aaaa`;
    writeLock(marker, { pid: process.pid, token: 'bbbb' });
    expect(store.claim('run1')).toEqual({ claimed: false, holder: null });
    writeLock(marker, { pid: deadPid(), token: 'bbbb' });
    expect(store.claim('run1').claimed).toBe(true);
  });

  it('releasing does not delete a successor claim', () => {
    const store = ResultsStore.open(root);
    const attempt = store.claim('run1');
    if (!attempt.claimed) throw new Error('expected a claim');
    const lock = path.join(store.claimsDir, 'run1.lock');
    writeLock(lock, { token: 'someone-else' });
    expect(attempt.claim.held()).toBe(false);
    attempt.claim.release();
    expect(JSON.parse(readFileSync(lock, 'utf8')).token).toBe('someone-else');
  });

  it('lets only one of several processes at a time take over the same stale lock', async () => {
    const store = ResultsStore.open(root);
    writeLock(path.join(store.claimsDir, 'run1.lock'), { pid: deadPid() });
    // Children start in ~1 s on a loaded machine; all of them try at the same moment.
    const startAt = String(Date.now() + 4_000);
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map(() => runChild(['claim', root, 'run1', startAt, '3000'])),
    );
    // The invariant, not a schedule: someone took the stale lock over, and no two
    // processes ever held it at once. (On a loaded machine a child may start after the
    // winner released it and legitimately win in turn.)
    const holds = outcomes
      .map((o) => o.trim().split(' '))
      .filter(([outcome]) => outcome === 'won')
      .map(([, from, to]) => ({ from: Number(from), to: Number(to) }))
      .sort((a, b) => a.from - b.from);
    expect(holds.length).toBeGreaterThanOrEqual(1);
    for (const [i, hold] of holds.entries()) {
      if (i > 0) expect(hold.from).toBeGreaterThanOrEqual(holds[i - 1]!.to);
    }
    expect(outcomes.filter((o) => o.trim() !== 'lost' && !o.startsWith('won '))).toEqual([]);
  });
});

describe('journals and failures', () => {
  it('appends events and replaces the journal of an interrupted attempt', () => {
    const store = ResultsStore.open(root);
    const epoch = { epoch: 0, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, seconds: 1 };
    const first = store.startJournal('run1');
    first.append({ type: 'epoch', phase: 'selector', labelled: 20, totalEpochs: 2, epoch });
    first.append({ type: 'epoch', phase: 'selector', labelled: 20, totalEpochs: 2, epoch });
    first.close();
    expect(store.journal('run1').map((e) => e.type)).toEqual(['start', 'epoch', 'epoch']);

    const second = store.startJournal('run1');
    second.append({ type: 'epoch', phase: 'target', labelled: 40, totalEpochs: 1, epoch });
    second.close();
    const entries = store.journal('run1');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ type: 'start', id: 'run1', pid: process.pid });
    expect(entries[1]).toMatchObject({ type: 'epoch', phase: 'target', labelled: 40 });

    store.removeJournal('run1');
    expect(store.journal('run1')).toEqual([]);
  });

  it('drops a torn last line but rejects garbage in the middle', () => {
    const store = ResultsStore.open(root);
    const journal = store.startJournal('run1');
    journal.close();
    const file = store.journalPath('run1');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"type":"epo`);
    expect(store.journal('run1')).toHaveLength(1);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n{}\n`);
    expect(() => store.journal('run1')).toThrow(`${file}:2: not a journal line`);
  });

  it('records the last failure of a run until it is cleared', () => {
    const store = ResultsStore.open(root);
    store.recordFailure('run1', 'unit', new Error('out of memory'));
    expect(store.failures()).toEqual([
      expect.objectContaining({ id: 'run1', experiment: 'unit', message: 'out of memory' }),
    ]);
    store.clearFailure('run1');
    expect(store.failures()).toEqual([]);
  });
});

describe('records written before a field existed', () => {
  it('read a record without dataset.dataSeed with the run seed that drew its subsets', () => {
    const store = ResultsStore.open(root);
    const record = fakeRecord('0123456789ab', 3);
    const { dataSeed: _dataSeed, ...olderDataset } = record.config.dataset;
    writeFileSync(
      store.recordPath(record.id),
      JSON.stringify({ ...record, config: { ...record.config, dataset: olderDataset } }),
    );
    expect(store.read(record.id).config.dataset).toEqual({ ...olderDataset, dataSeed: 3 });
  });
});
