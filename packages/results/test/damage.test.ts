import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTemporaryName } from '../src/atomic-write.js';
import { ResultsStore, type RunRecord } from '../src/index.js';
import { fakeRecord } from './fixtures/fake-record.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// node with tsx's loader, not the tsx CLI, so that the child's own SIGKILL is its exit signal.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const child = path.join(here, 'fixtures/store-child.ts');

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-damage-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited, so is certainly not alive. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** Runs store-child.ts with PRUNEFUSE_CRASH_AT set; resolves with the signal that ended it. */
function crashChild(crashAt: string, args: string[]): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      ['--conditions=source', '--import', tsxLoader, child, ...args],
      {
        stdio: 'ignore',
        env: { ...process.env, PRUNEFUSE_CRASH_AT: crashAt },
      },
    );
    proc.on('close', (_code, signal) => resolve(signal));
  });
}

function writeRaw(store: ResultsStore, id: string, record: unknown): void {
  writeFileSync(store.recordPath(id), JSON.stringify(record));
}

function tamper(id: string, change: (record: Record<string, unknown>) => void): unknown {
  const record = structuredClone(fakeRecord(id)) as unknown as Record<string, unknown>;
  change(record);
  return record;
}

describe('records are validated when read', () => {
  it('refuses a record without targets, naming the file and the field', () => {
    const store = ResultsStore.open(root);
    writeRaw(
      store,
      'aaa',
      tamper('aaa', (r) => {
        delete r.targets;
      }),
    );
    expect(() => store.read('aaa')).toThrow(
      `${store.recordPath('aaa')}: not a valid run record:\n  targets: Invalid input: expected array, received undefined`,
    );
  });

  it('refuses wrong types and impossible counts deep in a record', () => {
    const store = ResultsStore.open(root);
    writeRaw(
      store,
      'aaa',
      tamper('aaa', (r) => {
        (r.config as { seed: unknown }).seed = 'zero';
        (r.targets as Array<{ labelled: number }>)[0]!.labelled = -5;
      }),
    );
    let message = '';
    try {
      store.read('aaa');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(store.recordPath('aaa'));
    expect(message).toContain('config.seed: Invalid input: expected number, received string');
    expect(message).toContain('targets[0].labelled: Too small: expected number to be >0');
  });

  it('records() names every damaged record at once; inspect() tells finished, damaged and absent apart', () => {
    const store = ResultsStore.open(root);
    store.write(fakeRecord('good'));
    writeFileSync(store.recordPath('empty'), '');
    writeFileSync(store.recordPath('torn'), JSON.stringify(fakeRecord('torn')).slice(0, 100));
    expect(() => store.records()).toThrow(
      new RegExp(
        `${store.recordPath('empty')}: not valid JSON[^]*${store.recordPath('torn')}: not valid JSON[^]*2 damaged record`,
      ),
    );
    expect(store.inspect('good').state).toBe('finished');
    expect(store.inspect('torn')).toEqual({
      state: 'damaged',
      reason: expect.stringContaining('not valid JSON'),
    });
    expect(store.inspect('never')).toEqual({ state: 'absent' });
    expect(store.has('torn')).toBe(false);
    expect(store.index().map((e) => e.id)).toEqual(['good']);
  });

  it('refuses to write a record that would not read back (NaN becomes null in JSON)', () => {
    const store = ResultsStore.open(root);
    const record: RunRecord = fakeRecord('nan');
    record.targets[0]!.accuracy = Number.NaN;
    expect(() => store.write(record)).toThrow(
      'run nan: refusing to store an invalid record:\n  targets[0].accuracy: Invalid input: expected number, received NaN',
    );
    expect(store.ids()).toEqual([]);
  });
});

describe('damaged records are moved aside, never deleted', () => {
  it('moves a damaged record to runs/damaged with the reason and drops it from the index', () => {
    const store = ResultsStore.open(root);
    store.write(fakeRecord('aaa'));
    const bytes = 'garbage';
    writeFileSync(store.recordPath('aaa'), bytes);
    const moved = store.moveAside('aaa', 'not valid JSON');
    expect(moved).toMatch(/runs\/damaged\/aaa\.\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
    expect(readFileSync(moved!, 'utf8')).toBe(bytes);
    expect(readFileSync(moved!.replace(/\.json$/, '.reason.txt'), 'utf8')).toBe('not valid JSON\n');
    expect(store.ids()).toEqual([]);
    expect(store.index()).toEqual([]);
    expect(store.moveAside('aaa', 'again')).toBeNull();
  });
});

describe('the index is a cache that never fails a run', () => {
  it('a corrupt index.json is rebuilt from runs/ by the next write and by index()', () => {
    const store = ResultsStore.open(root);
    store.write(fakeRecord('aaa'));
    writeFileSync(store.indexFile, '{"schema": 1, "runs": [{"id"');
    store.write(fakeRecord('bbb'));
    expect(
      JSON.parse(readFileSync(store.indexFile, 'utf8')).runs.map((e: { id: string }) => e.id),
    ).toEqual(['aaa', 'bbb']);
    writeFileSync(store.indexFile, '[]');
    expect(store.index().map((e) => e.id)).toEqual(['aaa', 'bbb']);
    expect(JSON.parse(readFileSync(store.indexFile, 'utf8')).runs).toHaveLength(2);
  });
});

describe('leftovers of killed writers', () => {
  it('reads the writer from a temporary name, hostnames with dots included', () => {
    expect(parseTemporaryName('abc.json.node-1.example.org.42.0a1b2c3d.tmp', '.json')).toEqual({
      target: 'abc.json',
      hostname: 'node-1.example.org',
      pid: 42,
    });
    expect(parseTemporaryName('index.json.42.0a1b2c3d.tmp', '.json')).toEqual({
      target: 'index.json',
      hostname: null,
      pid: 42,
    });
    expect(parseTemporaryName('abc.json', '.json')).toBeNull();
    expect(parseTemporaryName('abc.json.x.tmp', '.json')).toBeNull();
  });

  it("adopts a complete temporary record, removes torn ones, dead claims, finished runs' journals and failures, and keeps live writers' files", () => {
    const store = ResultsStore.open(root);
    const host = os.hostname();
    const dead = deadPid();
    const temp = (id: string, pid: number) =>
      path.join(store.runsDir, `${id}.json.${host}.${pid}.0a1b2c3d.tmp`);
    // killed after its temporary was complete: adopted, not computed again
    writeFileSync(temp('complete', dead), JSON.stringify(fakeRecord('complete')));
    // killed half way through the temporary: removed
    writeFileSync(temp('torn', dead), JSON.stringify(fakeRecord('torn')).slice(0, 200));
    // a live writer's (this process'): kept
    writeFileSync(temp('live', process.pid), JSON.stringify(fakeRecord('live')));
    // finished run with its journal, failure and claim left by a killed sweep
    store.write(fakeRecord('done'));
    store.startJournal('done').close();
    store.recordFailure('done', 'unit', new Error('earlier attempt'));
    writeFileSync(
      path.join(store.claimsDir, 'done.lock'),
      JSON.stringify({ pid: dead, hostname: host, startedAt: '', token: 'feedfacefeedface' }),
    );
    // unfinished run's journal: the trace of the interrupted attempt stays
    store.startJournal('unfinished').close();
    const indexTemp = `${store.indexFile}.${host}.${dead}.0a1b2c3d.tmp`;
    writeFileSync(indexTemp, '{"schema"');

    const cleanup = store.cleanLeftovers();
    expect(cleanup.adopted).toEqual([
      `${temp('complete', dead)} -> ${store.recordPath('complete')}`,
    ]);
    expect(cleanup.removed.sort()).toEqual(
      [
        `${path.join(store.claimsDir, 'done.lock')} (claim of dead pid ${dead})`,
        `${temp('torn', dead)} (temporary record of a killed writer)`,
        `${store.journalPath('done')} (journal of a finished run)`,
        `${path.join(store.failuresDir, 'done.json')} (failure of a run finished since)`,
        `${indexTemp} (temporary file of a killed writer)`,
      ].sort(),
    );
    expect(store.read('complete')).toEqual(fakeRecord('complete'));
    expect(store.index().map((e) => e.id)).toEqual(['complete', 'done']);
    expect(readdirSync(store.runsDir).sort()).toEqual(
      ['complete.json', 'done.json', path.basename(temp('live', process.pid))].sort(),
    );
    expect(readdirSync(store.claimsDir)).toEqual([]);
    expect(readdirSync(store.journalsDir)).toEqual(['unfinished.jsonl']);
    expect(readdirSync(store.failuresDir)).toEqual([]);
    expect(existsSync(indexTemp)).toBe(false);
  });

  it("removes a dead claimant's private lock copies, renewals and takeover markers, and keeps a live one's", () => {
    const store = ResultsStore.open(root);
    const host = os.hostname();
    const dead = deadPid();
    const holder = JSON.stringify({
      pid: dead,
      hostname: host,
      startedAt: '',
      token: 'feedfacefeedface',
    });
    const leftovers = [
      `run1.lock.${host}.${dead}.0123456789abcdef.tmp`,
      `run1.lock.${host}.${dead}.0123456789abcdef.renew`,
      `index.lock.${host}.${dead}.0123456789abcdef.tmp`,
      `run2.lock.takeover-feedfacefeedface.${host}.${dead}.0123456789abcdef.tmp`,
      'run2.lock.takeover-feedfacefeedface',
    ];
    // killed between creating the file and writing it: the name alone says whose it was
    for (const name of leftovers)
      writeFileSync(path.join(store.claimsDir, name), name.endsWith('face') ? holder : '');
    const live = `run3.lock.${host}.${process.pid}.0123456789abcdef.tmp`;
    writeFileSync(path.join(store.claimsDir, live), '');

    const { removed } = store.cleanLeftovers();
    expect(removed.sort()).toEqual(
      leftovers
        .map((name) => `${path.join(store.claimsDir, name)} (claim file of dead pid ${dead})`)
        .sort(),
    );
    expect(readdirSync(store.claimsDir)).toEqual([live]);
  });

  it('a complete temporary record replaces a damaged record, which is moved aside', () => {
    const store = ResultsStore.open(root);
    writeFileSync(store.recordPath('aaa'), '');
    writeFileSync(
      path.join(store.runsDir, `aaa.json.${os.hostname()}.${deadPid()}.0a1b2c3d.tmp`),
      JSON.stringify(fakeRecord('aaa')),
    );
    expect(store.cleanLeftovers().adopted).toHaveLength(1);
    expect(store.read('aaa')).toEqual(fakeRecord('aaa'));
    expect(readdirSync(store.damagedDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('crashes inside the record and index writes leave a store that cleanLeftovers makes whole', async () => {
    ResultsStore.open(root);
    const store = new ResultsStore(root);
    // store-child writes records w0, w1, ...; each write is one record write and one index write.
    expect(await crashChild('atomic-write:before-rename#1', ['write', root, 'w', '3'])).toBe(
      'SIGKILL',
    );
    expect(store.ids()).toEqual([]);
    expect(store.cleanLeftovers().adopted).toHaveLength(1);
    expect(store.index().map((e) => e.id)).toEqual(['w0']);

    expect(await crashChild('atomic-write:partial#2', ['write', root, 'x', '3'])).toBe('SIGKILL');
    // the second atomic write was x0's index update, killed holding the index lock
    expect(store.cleanLeftovers().removed).toEqual([
      expect.stringMatching(/claims\/index\.lock \(claim of dead pid \d+\)$/),
      expect.stringMatching(/index\.json\..*\.tmp \(temporary file of a killed writer\)$/),
    ]);
    expect(store.index().map((e) => e.id)).toEqual(['w0', 'x0']);

    expect(await crashChild('store:record-written#2', ['write', root, 'y', '3'])).toBe('SIGKILL');
    expect(store.cleanLeftovers()).toEqual({ adopted: [], removed: [] });
    expect(store.index().map((e) => e.id)).toEqual(['w0', 'x0', 'y0', 'y1']);
    expect(readdirSync(store.runsDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });
});
