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

const TABLE: TileTable = measured as TileTable;
for (const tile of Object.values(TABLE.entries)) checkTile(tile);

/** The measured blocking of a convolution pass, else the fallback for its product's width. */
export function convTile(pass: ConvPass, shape: ConvShape, table: TileTable = TABLE): GemmTile {
  const n = pass === 'input-grad' ? shape.inChannels : shape.outChannels;
  return table.entries[tileKey(pass, shape)] ?? fallbackTile(n);
}
