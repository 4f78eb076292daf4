import { type NamedKernelOp, seedKernelOperands } from './kernel-bench.js';
import { KernelHarness } from './kernel-harness.js';
import { convFlops, kernelOperands, pushKernelOp } from './kernel-ops.js';
import {
  checkTile,
  DEFAULT_TILE,
  type GemmTile,
  MAX_SPLITS,
  splitsFor,
  splitsOf,
  tileLabel,
} from './kernels/gemm.js';
import { filterGradProduct } from './kernels/conv.js';
import { convTile, type TileTable, tileKey } from './kernels/tiles.js';
import { webgpuDevice } from './trainer.js';

const tile = (
  tileM: number,
  tileN: number,
  tileK: number,
  threadM: number,
  threadN: number,
): GemmTile => ({ tileM, tileN, tileK, threadM, threadN });

/**
 * The blockings the tuner measures per shape: workgroup tiles from 16 to 128 wide on
 * either side, per-thread blocks from 1x4 to 8x8, reduction steps of 8 to 32. Most have
 * 256 threads; the 64- and 128-thread ones give small pruned layers (M = batch x 8x8
 * pixels, N = 3 to 16 channels) more workgroups than 256-thread tiles can, at more work
 * per thread. Small enough to run every CIFAR shape in minutes on a GPU.
 */
export const TILE_GRID: readonly GemmTile[] = [
  DEFAULT_TILE,
  tile(64, 32, 16, 4, 2),
  tile(64, 16, 16, 4, 1),
  tile(128, 64, 8, 8, 4),
  tile(128, 32, 8, 8, 2),
  tile(128, 16, 16, 8, 1),
  tile(32, 32, 16, 2, 2),
  tile(32, 64, 16, 2, 4),
  tile(64, 64, 8, 4, 4),
  tile(128, 128, 8, 8, 8),
  tile(32, 16, 32, 2, 1),
  tile(16, 64, 32, 1, 4),
  // 128 threads
  tile(32, 32, 16, 2, 4),
  tile(64, 16, 16, 4, 2),
  // 64 threads
  tile(32, 16, 16, 4, 2),
  tile(32, 32, 16, 4, 4),
];
for (const candidate of TILE_GRID) checkTile(candidate);

/**
 * Reduction slice counts a filter gradient tries with its fastest blocking: splitsFor's
 * estimate e and e/4 to 4e, and no split at all, within what the reduction allows.
 */
export function splitCandidates(m: number, n: number, k: number, blocking: GemmTile): number[] {
  const estimate = splitsFor(m, n, k, blocking);
  const steps = Math.max(1, Math.ceil(k / blocking.tileK));
  const most = Math.min(MAX_SPLITS, steps);
  const counts = [1, estimate / 4, estimate / 2, estimate, estimate * 2, estimate * 4];
  return [...new Set(counts.map((c) => Math.min(most, Math.max(1, Math.round(c)))))].sort(
    (a, b) => a - b,
  );
}

/** Output columns of a conv pass's product (N), which bounds the useful tile width. */
function productWidth(op: Extract<NamedKernelOp['op'], { kind: 'conv' }>): number {
  return op.pass === 'input-grad' ? op.geometry.inChannels : op.geometry.outChannels;
}

export interface TuneResult {
  name: string;
  key: string;
  best: GemmTile;
  /** Milliseconds of one op: with the best blocking, and with the table's current one. */
  bestMs: number;
  currentMs: number;
  tried: number;
}

export interface TuneOptions {
  ops: readonly NamedKernelOp[];
  /** Minimum measuring time per blocking and op. */
  timeMs: number;
  grid?: readonly GemmTile[];
  /** The table entries start from (kept for shapes not measured). */
  start?: TileTable;
  onResult?: (result: TuneResult) => void;
}

/** Work per timed sample, as the bench cases: enough that a GPU times kernels, not submissions. */
const TARGET_FLOPS = 4e9;

/**
 * Measures every blocking of the grid on each conv op (on the webgpu backend's adapter)
 * and returns the fastest per op, keyed as the tile table keys shapes. Blockings wider
 * than twice the product's width are skipped: they compute more padding than output.
 */
export async function tuneConvTiles(options: TuneOptions): Promise<{
  entries: Record<string, GemmTile>;
  results: TuneResult[];
}> {
  const device = webgpuDevice();
  const grid = options.grid ?? TILE_GRID;
  const entries: Record<string, GemmTile> = { ...options.start?.entries };
  const results: TuneResult[] = [];
  for (const { name, op } of options.ops) {
    if (op.kind !== 'conv') continue;
    const width = productWidth(op);
    const current = convTile(op.pass, op.geometry, options.start);
    const candidates = [
      current,
      ...grid.filter(
        (t) => t.tileN <= Math.max(16, 2 * width) && tileLabel(t) !== tileLabel(current),
      ),
    ];
    const repeats = Math.max(1, Math.min(64, Math.round(TARGET_FLOPS / convFlops(op.geometry))));
    const harness = new KernelHarness(device, kernelOperands(op));
    try {
      seedKernelOperands(harness, op);
      const timed: { tile: GemmTile; ms: number }[] = [];
      const measure = async (candidate: GemmTile) => {
        harness.compile((list) => pushKernelOp(list, harness, op, candidate));
        await harness.run(1); // pipeline creation and first-use costs stay out of the samples
        const ms = (await medianMs(harness, repeats, options.timeMs)) / repeats;
        timed.push({ tile: candidate, ms });
        return ms;
      };
      for (const candidate of candidates) await measure(candidate);
      if (op.pass === 'filter-grad') {
        // The slice count second, with the fastest blocking: a full cross product of
        // blockings and counts would take six times as long for the same answer where
        // the two are nearly independent (slices trade occupancy against the final sum).
        const blocking = timed.reduce((a, b) => (b.ms < a.ms ? b : a)).tile;
        const { m, n, k } = filterGradProduct(op.geometry);
        const tried = new Set([splitsOf(m, n, k, blocking)]);
        for (const splits of splitCandidates(m, n, k, blocking)) {
          if (tried.has(splits)) continue;
          tried.add(splits);
          await measure({ ...blocking, splits });
        }
      }
      const best = timed.reduce((a, b) => (b.ms < a.ms ? b : a));
      const key = tileKey(op.pass, op.geometry);
      entries[key] = best.tile;
      const result = {
        name,
        key,
        best: best.tile,
        bestMs: best.ms,
        currentMs: timed[0]!.ms,
        tried: timed.length,
      };
      results.push(result);
      options.onResult?.(result);
    } finally {
      harness.dispose();
    }
  }
  return { entries, results };
}

/** Median wall time of `harness.run(repeats)` over at least 3 samples and `timeMs`. */
async function medianMs(harness: KernelHarness, repeats: number, timeMs: number): Promise<number> {
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || performance.now() - start < timeMs) {
    const t0 = performance.now();
    await harness.run(repeats);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
