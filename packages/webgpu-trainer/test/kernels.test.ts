import { Rng, relativeError, runBench, tf, useBackend } from '@prunefuse/engine';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KernelHarness,
  type KernelOp,
  kernelBenchCase,
  kernelOperands,
  kernelResult,
  pushKernelOp,
  webgpuDevice,
} from '../src/index.js';
import { DEFAULT_TILE, type GemmTile, tileLabel } from '../src/kernels/gemm.js';
import { fallbackTile } from '../src/kernels/tiles.js';
import { splitCandidates, tuneConvTiles } from '../src/tune.js';
import { type ConvGeometry, filterGradProduct } from '../src/kernels/conv.js';
import { webgpuAvailable } from './reference.js';

const webgpu = await webgpuAvailable();

/** A 'same' convolution's geometry (TensorFlow's padding: the odd pixel after). */
function same(options: {
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
}): ConvGeometry {
  const { batch, size, inChannels, outChannels, kernel, stride } = options;
  const out = Math.ceil(size / stride);
  const pad = Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2);
  return {
    batch,
    height: size,
    width: size,
    inChannels,
    outHeight: out,
    outWidth: out,
    outChannels,
    kernel,
    stride,
    padTop: pad,
    padLeft: pad,
  };
}

function seeded(floats: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: floats }, () => rng.normal());
}

/** The op's result computed by tfjs on the cpu backend from the same operands. */
function cpuReference(op: Extract<KernelOp, { kind: 'conv' }>, data: Record<string, Float32Array>) {
  const g = op.geometry;
  const x = [g.batch, g.height, g.width, g.inChannels] as [number, number, number, number];
  const w = [g.kernel, g.kernel, g.inChannels, g.outChannels] as [number, number, number, number];
  const y = [g.batch, g.outHeight, g.outWidth, g.outChannels] as [number, number, number, number];
  return tf
    .tidy(() => {
      switch (op.pass) {
        case 'forward':
          return tf.conv2d(tf.tensor4d(data.x!, x), tf.tensor4d(data.w!, w), g.stride, 'same');
        case 'input-grad':
          return tf.conv2dTranspose(
            tf.tensor4d(data.dy!, y),
            tf.tensor4d(data.w!, w),
            x,
            g.stride,
            'same',
          );
        case 'filter-grad':
          return tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropFilter,
              { x: tf.tensor4d(data.x!, x), dy: tf.tensor4d(data.dy!, y) },
              { strides: g.stride, pad: 'same', dataFormat: 'NHWC', filterShape: w },
            ) as tf.Tensor;
      }
    })
    .dataSync() as Float32Array;
}

/** Runs `op` on webgpu with `tile` and returns its result's relative error to the cpu's. */
async function convError(op: Extract<KernelOp, { kind: 'conv' }>, tile?: GemmTile) {
  await useBackend('webgpu');
  const operands = kernelOperands(op);
  const result = kernelResult(op);
  const data = Object.fromEntries(
    Object.entries(operands).map(([name, floats], i) => [name, seeded(floats, i + 1)]),
  );
  const harness = new KernelHarness(webgpuDevice(), operands);
  let gpu: Float32Array;
  try {
    for (const [name, values] of Object.entries(data)) harness.write(name, values);
    harness.compile((list) => pushKernelOp(list, harness, op, tile));
    await harness.run();
    gpu = await harness.read(result);
  } finally {
    harness.dispose();
  }
  await useBackend('cpu');
  return relativeError(gpu, cpuReference(op, data));
}

/**
 * Odd shapes: channels not a multiple of 4 (scalar loads), 1x1 spatial, batch 1, strides 1
 * and 2; and channels that are (vec4 loads of x, dy, w), on both sides or one.
 */
const GEOMETRIES: { label: string; geometry: ConvGeometry }[] = [
  {
    label: '3x3, 8 -> 12 (vec4 loads), 6x6, batch 2',
    geometry: same({ batch: 2, size: 6, inChannels: 8, outChannels: 12, kernel: 3, stride: 1 }),
  },
  {
    label: '3x3 stride 2, 12 -> 6 (vec4 loads of x only), 7x7, batch 1',
    geometry: same({ batch: 1, size: 7, inChannels: 12, outChannels: 6, kernel: 3, stride: 2 }),
  },
  {
    label: '3x3, 5 -> 7 channels, 7x7, batch 2',
    geometry: same({ batch: 2, size: 7, inChannels: 5, outChannels: 7, kernel: 3, stride: 1 }),
  },
  {
    label: '3x3 stride 2, 3 -> 6, 9x9 (odd size), batch 1',
    geometry: same({ batch: 1, size: 9, inChannels: 3, outChannels: 6, kernel: 3, stride: 2 }),
  },
  {
    label: '1x1 stride 2, 6 -> 13, 8x8, batch 3',
    geometry: same({ batch: 3, size: 8, inChannels: 6, outChannels: 13, kernel: 1, stride: 2 }),
  },
  {
    label: '3x3, 13 -> 13, 1x1 spatial, batch 1',
    geometry: same({ batch: 1, size: 1, inChannels: 13, outChannels: 13, kernel: 3, stride: 1 }),
  },
  {
    label: '7x7 stride 2 stem, 3 -> 10, 12x12, batch 2',
    geometry: same({ batch: 2, size: 12, inChannels: 3, outChannels: 10, kernel: 7, stride: 2 }),
  },
  {
    label: '3x3, 33 -> 70, 4x4, batch 5 (several tiles)',
    geometry: same({ batch: 5, size: 4, inChannels: 33, outChannels: 70, kernel: 3, stride: 1 }),
  },
];

/**
 * Blockings spanning the tuner's grid: wide, narrow, tall, thin per-thread blocks, deep K,
 * 128 and 64 threads (the last with a measured slice count, which only the filter
 * gradient reads).
 */
const TILES: GemmTile[] = [
  DEFAULT_TILE,
  fallbackTile(16),
  { tileM: 32, tileN: 32, tileK: 8, threadM: 2, threadN: 2 },
  { tileM: 128, tileN: 32, tileK: 8, threadM: 8, threadN: 2 },
  { tileM: 16, tileN: 64, tileK: 32, threadM: 1, threadN: 4 },
  { tileM: 32, tileN: 32, tileK: 16, threadM: 2, threadN: 4 },
  { tileM: 32, tileN: 16, tileK: 16, threadM: 4, threadN: 2, splits: 3 },
];

/** llvmpipe JIT-compiles each pipeline for seconds (pipelines are specialised per shape). */
const COMPILE_TIMEOUT = 300_000;

const PASSES = ['forward', 'input-grad', 'filter-grad'] as const;

/**
 * One blocking per shape and pass, taken in turn from TILES: 3 passes and 7 blockings are
 * coprime, so every blocking meets every pass and several shapes (scalar and vec4 loads,
 * strides 1 and 2), at a seventh of the pipelines (each compiles for seconds on llvmpipe)
 * that every blocking on every case would take.
 */
const CASES = GEOMETRIES.flatMap(({ label, geometry }, g) =>
  PASSES.map((pass, p) => ({
    label,
    geometry,
    pass,
    tile: TILES[(g * PASSES.length + p) % TILES.length]!,
  })),
);

describe.skipIf(!webgpu)('convolution kernels against the tfjs cpu backend', () => {
  afterAll(() => useBackend('cpu'));

  it('take every blocking through every pass', () => {
    for (const tile of TILES) {
      expect(new Set(CASES.filter((c) => c.tile === tile).map((c) => c.pass)).size).toBe(
        PASSES.length,
      );
    }
  });

  it(
    'sum a filter gradient split into any number of slices, to one per reduction step',
    async () => {
      // K = 2 x 7 x 7 = 98 products per weight: seven 16-deep steps, so 8 slices run as 7.
      const geometry = GEOMETRIES[2]!.geometry;
      const op = { kind: 'conv', pass: 'filter-grad', geometry } as const;
      for (const splits of [1, 2, 5, 8]) {
        const error = await convError(op, { ...DEFAULT_TILE, splits });
        expect(error, `${splits} slices`).toBeLessThan(1e-5);
      }
    },
    COMPILE_TIMEOUT,
  );

  for (const { label, geometry, pass, tile } of CASES) {
    it(
      `${pass}, ${label}, blocking ${tileLabel(tile)}`,
      async () => {
        const error = await convError({ kind: 'conv', pass, geometry }, tile);
        expect(error).toBeLessThan(1e-5);
      },
      COMPILE_TIMEOUT,
    );
  }
});

describe.skipIf(!webgpu)('kernel bench cases', () => {
  afterAll(() => useBackend('cpu'));

  it('time a tiny conv and batch norm on webgpu, in FLOP/s and GB/s, GPU memory freed', async () => {
    const conv = kernelBenchCase({
      name: 'kernel/conv/forward/test/1x5x5x3-3x3x5',
      op: {
        kind: 'conv',
        pass: 'forward',
        geometry: same({ batch: 1, size: 5, inChannels: 3, outChannels: 5, kernel: 3, stride: 1 }),
      },
    });
    const batchNorm = kernelBenchCase({
      name: 'kernel/batchnorm/backward/test/1x5x5x3',
      op: { kind: 'batchnorm', pass: 'backward', shape: { rows: 25, channels: 3, epsilon: 1e-3 } },
    });
    const rows = await runBench([conv, batchNorm], {
      backends: ['webgpu'],
      timeMs: 1,
      iterations: 1,
    });
    expect(rows.map((r) => r.name)).toEqual([conv.name, batchNorm.name]);
    const [convRow, bnRow] = rows;
    expect(convRow!.gflops).toBeGreaterThan(0);
    expect(convRow!.repeats).toBe(conv.repeats);
    expect(conv.flops).toBe(2 * 25 * 5 * 27 * conv.repeats!);
    expect(bnRow!.gbPerSec).toBeGreaterThan(0);
    expect(bnRow!.gflops).toBeNull();
  });

  it('the tuner measures each blocking of its grid on a conv and keys the fastest by shape', async () => {
    await useBackend('webgpu');
    // Input gradients: N is the input channels, 40 (every blocking fits) and 3 (only 16-wide ones).
    const wide = same({ batch: 1, size: 5, inChannels: 40, outChannels: 5, kernel: 3, stride: 2 });
    const narrow = { ...wide, inChannels: 3 };
    const grid = [DEFAULT_TILE, fallbackTile(16)];
    const start = {
      provenance: 'test',
      adapter: null,
      entries: { 'forward/9x9x9-1x1x9': DEFAULT_TILE },
    };
    const { entries, results } = await tuneConvTiles({
      ops: [wide, narrow].map((geometry) => ({
        name: `kernel/conv/input-grad/test/${geometry.inChannels}`,
        op: { kind: 'conv' as const, pass: 'input-grad' as const, geometry },
      })),
      timeMs: 1,
      grid,
      start,
    });
    const keys = ['input-grad/5x5x40-3x3x5-s2', 'input-grad/5x5x3-3x3x5-s2'];
    expect(Object.keys(entries).sort()).toEqual([...keys, 'forward/9x9x9-1x1x9'].sort());
    expect(results.map((r) => r.key)).toEqual(keys);
    // 40 channels: the table's blocking (the default) and the 16-wide one; 3: the 16-wide only.
    expect(results.map((r) => r.tried)).toEqual([2, 1]);
    expect(grid).toContainEqual(entries[keys[0]!]);
    expect(entries[keys[1]!]).toEqual(fallbackTile(16));
    for (const r of results) expect(r.bestMs).toBeLessThanOrEqual(r.currentMs);
  });

  it(
    'the tuner then tries slice counts for a filter gradient with its fastest blocking',
    async () => {
      await useBackend('webgpu');
      // K = 4 x 8 x 8 = 256: the estimate is 1 slice; up to 16 steps of 16.
      const geometry = same({
        batch: 4,
        size: 8,
        inChannels: 6,
        outChannels: 5,
        kernel: 3,
        stride: 1,
      });
      const grid = [fallbackTile(16)];
      const { results } = await tuneConvTiles({
        ops: [
          {
            name: 'kernel/conv/filter-grad/test',
            op: { kind: 'conv', pass: 'filter-grad', geometry },
          },
        ],
        timeMs: 1,
        grid,
      });
      const [result] = results;
      // The one blocking at the estimated count (1 slice), then 2 and 4.
      const { m, n, k } = filterGradProduct(geometry);
      const counts = splitCandidates(m, n, k, fallbackTile(16));
      expect(counts).toEqual([1, 2, 4]);
      expect(result!.tried).toBe(3);
      const { splits, ...blocking } = result!.best;
      expect(blocking).toEqual(fallbackTile(16));
      if (splits !== undefined) expect(counts).toContain(splits);
    },
    COMPILE_TIMEOUT,
  );
});

describe.skipIf(!webgpu)('batch-norm statistics', () => {
  afterAll(() => useBackend('cpu'));

  it('are the float64 mean and variance where |mean| >> std, over several row slices', async () => {
    await useBackend('webgpu');
    // 5,000 rows: three slices of the partial sums, the last one short.
    const rows = 5000;
    const channels = 3;
    const op: KernelOp = {
      kind: 'batchnorm',
      pass: 'forward',
      shape: { rows, channels, epsilon: 0 },
    };
    const rng = new Rng(3);
    const x = Float32Array.from(
      { length: rows * channels },
      (_, i) => 1000 * ((i % channels) + 1) + 0.01 * rng.normal() + (i < channels ? 0.05 : 0),
    );
    const harness = new KernelHarness(webgpuDevice(), kernelOperands(op));
    let stats: Float32Array;
    try {
      for (const [name, floats] of Object.entries(kernelOperands(op))) {
        harness.write(name, name === 'x' ? x : new Float32Array(floats).fill(1));
      }
      harness.compile((list) => pushKernelOp(list, harness, op));
      await harness.run();
      stats = await harness.read('stats');
    } finally {
      harness.dispose();
    }
    for (let c = 0; c < channels; c++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += x[r * channels + c]!;
      mean /= rows;
      let variance = 0;
      for (let r = 0; r < rows; r++) variance += (x[r * channels + c]! - mean) ** 2;
      variance /= rows;
      expect(Math.abs(stats[c]! - mean) / mean).toBeLessThan(1e-7);
      const gpuVariance = 1 / stats[channels + c]! ** 2;
      expect(Math.abs(gpuVariance - variance) / variance, `channel ${c}`).toBeLessThan(1e-3);
    }
  });
});
