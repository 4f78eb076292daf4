import { describe, expect, it } from 'vitest';
import { checkTile, DEFAULT_TILE, splitsFor, splitsOf, tileLabel } from '../src/kernels/gemm.js';
import { convTile, fallbackTile, parseTileTable, tileKey } from '../src/kernels/tiles.js';
import { splitCandidates, TILE_GRID } from '../src/tune.js';

const shape = { height: 32, width: 32, inChannels: 16, outChannels: 32, kernel: 3, stride: 2 };

describe('the GEMM tile table', () => {
  it('keys a conv pass by its shape without the batch', () => {
    expect(tileKey('input-grad', shape)).toBe('input-grad/32x32x16-3x3x32-s2');
    expect(tileKey('forward', { ...shape, stride: 1, kernel: 1 })).toBe('forward/32x32x16-1x1x32');
  });

  it("gives a shape's measured entry, else the fallback fitted to the product's width", () => {
    const measured = { tileM: 32, tileN: 32, tileK: 8, threadM: 2, threadN: 2 };
    const table = parseTileTable(
      JSON.stringify({
        provenance: 'test',
        adapter: null,
        entries: { [tileKey('forward', shape)]: measured },
      }),
      'test',
    );
    expect(convTile('forward', shape, table)).toEqual(measured);
    // N is the input channels (16) for the input gradient, the output channels (32) otherwise.
    expect(convTile('input-grad', shape, table)).toEqual(fallbackTile(16));
    expect(convTile('filter-grad', shape, table).tileN).toBe(32);
    expect(fallbackTile(64)).toEqual(DEFAULT_TILE);
  });

  it('rejects an entry no kernel can run, naming the file and the entry', () => {
    const bad = { tileM: 128, tileN: 128, tileK: 16, threadM: 4, threadN: 4 };
    expect(() =>
      parseTileTable(JSON.stringify({ entries: { 'forward/x': bad } }), 'tiles.json'),
    ).toThrow(/tiles\.json: entries\['forward\/x'\]: GEMM tile 128x128x16\/4x4: 1024 threads/);
    expect(() => parseTileTable('{', 'tiles.json')).toThrow(/tiles\.json: not JSON/);
    expect(() => parseTileTable('{}', 'tiles.json')).toThrow(/expected an object with 'entries'/);
  });

  it('rejects a blocking with fewer threads than reduction slots per step, or too many slices', () => {
    // 4 x 4 threads cannot fill the 32 KInfo slots of a 32-deep reduction step.
    expect(() => checkTile({ tileM: 16, tileN: 16, tileK: 32, threadM: 4, threadN: 4 })).toThrow(
      /16 threads cannot fill tileK = 32/,
    );
    expect(() => checkTile({ ...DEFAULT_TILE, splits: 65 })).toThrow(/splits 65 exceed 64/);
    expect(() => checkTile({ ...DEFAULT_TILE, splits: 0 })).toThrow(/splits must be a positive/);
    expect(tileLabel({ ...DEFAULT_TILE, splits: 8 })).toBe('64x64x16/4x4 k/8');
  });

  it("the tuner's grid holds valid blockings of 64, 128 and 256 threads, no two alike", () => {
    const labels = TILE_GRID.map((t) => JSON.stringify(t));
    expect(new Set(labels).size).toBe(labels.length);
    const threads = TILE_GRID.map((t) => (t.tileM / t.threadM) * (t.tileN / t.threadN));
    expect([...new Set(threads)].sort((a, b) => a - b)).toEqual([64, 128, 256]);
    for (const t of TILE_GRID) expect(() => checkTile(t)).not.toThrow();
  });

  it("runs a tile's measured slice count, else the estimate, never past the reduction's steps", () => {
    // A ResNet-20 stage-3 filter gradient at batch 128: M = 576, N = 64, K = 8,192.
    const [m, n, k] = [576, 64, 8192];
    expect(splitsOf(m, n, k, DEFAULT_TILE)).toBe(splitsFor(m, n, k, DEFAULT_TILE));
    expect(splitsOf(m, n, k, { ...DEFAULT_TILE, splits: 3 })).toBe(3);
    // K = 40 is three 16-deep steps: a fourth slice would sum zeros.
    expect(splitsOf(m, n, 40, { ...DEFAULT_TILE, splits: 8 })).toBe(3);
  });

  it('tries no split, the estimate and quarter to four times it, within what the reduction allows', () => {
    const [m, n, k] = [576, 64, 8192];
    const estimate = splitsFor(m, n, k, DEFAULT_TILE);
    const counts = splitCandidates(m, n, k, DEFAULT_TILE);
    expect(counts).toContain(1);
    expect(counts).toContain(estimate);
    expect(counts).toEqual([...new Set(counts)].sort((a, b) => a - b));
    expect(Math.max(...counts)).toBe(Math.min(64, estimate * 4));
    // A short reduction (two 16-deep steps) allows at most two slices.
    expect(splitCandidates(9, 4, 32, DEFAULT_TILE)).toEqual([1, 2]);
  });
});
