import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SelectionPhaseStore } from '../src/index.js';
import { selectionPhaseFixture } from './fixtures/selection-phase-fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// node with tsx's loader, not the tsx CLI, so that the child's own SIGKILL is its exit signal.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const child = path.join(here, 'fixtures/selection-phase-child.ts');

const ID = '0123456789ab';
let root: string;
let store: SelectionPhaseStore;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-selections-'));
  store = new SelectionPhaseStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const folder = () => path.join(root, ID);
const weightsFiles = () => readdirSync(folder()).filter((name) => name.endsWith('.bin'));

describe('SelectionPhaseStore', () => {
  it('gives back what was stored, weights bit for bit, with the run that stored it', () => {
    expect(store.read(ID)).toBeNull();
    expect(store.offer(ID, 'run-a', selectionPhaseFixture(2))).toBe(true);
    expect(store.read(ID)).toEqual({ run: 'run-a', phase: selectionPhaseFixture(2) });
  });

  it('keeps the stored phase unless the offered one extends it', () => {
    store.offer(ID, 'run-a', selectionPhaseFixture(2));
    expect(store.offer(ID, 'run-b', selectionPhaseFixture(2))).toBe(false);
    expect(store.offer(ID, 'run-b', selectionPhaseFixture(1))).toBe(false);
    const other = selectionPhaseFixture(3);
    other.rounds[0]!.selected = [99, 98];
    expect(store.offer(ID, 'run-b', other)).toBe(false);
    expect(store.read(ID)!.run).toBe('run-a');
    // More rounds on the same path: replaces, and the replaced weights file goes.
    expect(store.offer(ID, 'run-c', selectionPhaseFixture(3))).toBe(true);
    expect(store.read(ID)).toEqual({ run: 'run-c', phase: selectionPhaseFixture(3) });
    expect(weightsFiles()).toHaveLength(1);
  });

  it('reads a damaged or incomplete phase as absent, so that it is computed again', () => {
    store.offer(ID, 'run-a', selectionPhaseFixture(2));
    const [weights] = weightsFiles();
    const file = path.join(folder(), weights!);
    const bytes = readFileSync(file);
    bytes[5] = bytes[5]! ^ 1;
    writeFileSync(file, bytes);
    expect(store.read(ID)).toBeNull();
    writeFileSync(file, bytes.subarray(0, 16));
    expect(store.read(ID)).toBeNull();
    rmSync(file);
    expect(store.read(ID)).toBeNull();
    writeFileSync(path.join(folder(), 'phase.json'), '{"schema": 1, "id": ');
    expect(store.read(ID)).toBeNull();
  });

  it.each([
    ['while its weights file is written', 'atomic-write:partial#1'],
    ['before its weights file is renamed into place', 'atomic-write:before-rename#1'],
    ['before phase.json is renamed into place', 'atomic-write:before-rename#2'],
  ])('leaves nothing to replay when the writer is killed %s', (_when, point) => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', tsxLoader, child, root, ID],
      {
        env: { ...process.env, PRUNEFUSE_CRASH_AT: point },
      },
    );
    expect(result.signal).toBe('SIGKILL');
    expect(readdirSync(folder()).some((name) => name.endsWith('.tmp'))).toBe(true);
    expect(store.read(ID)).toBeNull();
    // The next writer stores it whole.
    expect(store.offer(ID, 'run-b', selectionPhaseFixture(2))).toBe(true);
    expect(store.read(ID)!.phase).toEqual(selectionPhaseFixture(2));
  });

  it('refuses an id that is not a hex digest (it names a folder)', () => {
    expect(() => store.read('../runs')).toThrow(/selection id '..\/runs' is not a hex digest/);
  });
});
