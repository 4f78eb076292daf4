import { readFileSync } from 'node:fs';
import { checkTile, DEFAULT_TILE, type GemmTile } from './gemm.js';
import measured from './tiles.json' with { type: 'json' };

/** The three products a convolution's training step runs. */
export type ConvPass = 'forward' | 'input-grad' | 'filter-grad';

/** A convolution's shape as the tile table keys it (the batch only lengthens M or K). */
export interface ConvShape {
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
}

/** Blockings measured fastest per convolution pass and shape on one adapter (tune.ts writes it). */
export interface TileTable {
  /** Where and how it was measured, or why it is empty. */
  provenance: string;
  /** The adapter it was measured on. */
  adapter: string | null;
  /** By tileKey. */
  entries: Record<string, GemmTile>;
}

/** e.g. 'forward/32x32x16-3x3x16' or 'input-grad/32x32x16-1x1x32-s2'. */
export function tileKey(pass: ConvPass, shape: ConvShape): string {
  const { height, width, inChannels, outChannels, kernel, stride } = shape;
  const strided = stride === 1 ? '' : `-s${stride}`;
  return `${pass}/${height}x${width}x${inChannels}-${kernel}x${kernel}x${outChannels}${strided}`;
}

/**
 * The blocking when the table has no entry: DEFAULT_TILE, narrowed along N to the
 * product's width where that is 16 or 32 (a 64-wide tile over 16 output channels computes
 * 48 columns of padding), the thread count kept at 256.
 */
export function fallbackTile(n: number): GemmTile {
  if (n > 32) return DEFAULT_TILE;
  const tileN = n > 16 ? 32 : 16;
  return { ...DEFAULT_TILE, tileN, threadN: tileN / 16 };
}

/**
 * The table the trainer uses: the one committed beside this file, or the file
 * PRUNEFUSE_TILES names (a table `bench --tune` just wrote, used in the same session
 * without rebuilding the bundle that embeds the committed one).
 */
export const TILE_TABLE_VARIABLE = 'PRUNEFUSE_TILES';

/** Parses and checks a tile table, naming `source` and the entry at fault. */
export function parseTileTable(text: string, source: string): TileTable {
  let table: TileTable;
  try {
    table = JSON.parse(text) as TileTable;
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  if (typeof table?.entries !== 'object' || table.entries === null) {
    throw new Error(
      `${source}: expected an object with 'entries' (a tile table from bench --tune)`,
    );
  }
  for (const [key, tile] of Object.entries(table.entries)) {
    try {
      checkTile(tile);
    } catch (error) {
      throw new Error(`${source}: entries['${key}']: ${(error as Error).message}`);
    }
  }
  return table;
}

function loadTable(): TileTable {
  const file = process.env[TILE_TABLE_VARIABLE];
  if (!file) return parseTileTable(JSON.stringify(measured), 'src/kernels/tiles.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${TILE_TABLE_VARIABLE}=${file}: cannot read it (${(error as Error).message})`);
  }
  return parseTileTable(text, `${TILE_TABLE_VARIABLE}=${file}`);
}

const TABLE = loadTable();

/** The measured blocking of a convolution pass, else the fallback for its product's width. */
export function convTile(pass: ConvPass, shape: ConvShape, table: TileTable = TABLE): GemmTile {
  const n = pass === 'input-grad' ? shape.inChannels : shape.outChannels;
  return table.entries[tileKey(pass, shape)] ?? fallbackTile(n);
}
