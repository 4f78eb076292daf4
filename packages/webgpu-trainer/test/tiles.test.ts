import { describe, expect, it } from 'vitest';
import { DEFAULT_TILE } from '../src/kernels/gemm.js';
import { convTile, fallbackTile, parseTileTable, tileKey } from '../src/kernels/tiles.js';
import { TILE_GRID } from '../src/tune.js';

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

  it("the tuner's grid holds only valid blockings of 256 threads, no two alike", () => {
    const labels = TILE_GRID.map((t) => JSON.stringify(t));
    expect(new Set(labels).size).toBe(labels.length);
    for (const t of TILE_GRID) expect((t.tileM / t.threadM) * (t.tileN / t.threadN)).toBe(256);
  });
});
