import { type Binding, type Constants, cu, type Dispatch, kernelSource, u } from '../wgsl.js';

/** Output tile of one workgroup (TILE x TILE), reduction slice per shared-memory stage. */
const TILE = 64;
const TILE_K = 16;
/** 16 x 16 threads, each accumulating a 4 x 4 block of the tile. */
const THREADS_SIDE = 16;
const PER_THREAD = TILE / THREADS_SIDE;
const THREADS = THREADS_SIDE * THREADS_SIDE;

export interface GemmOptions {
  label: string;
  /** C[M, N] = Σ_k A[m, k] · B[k, n]. */
  m: number;
  n: number;
  k: number;
  /**
   * Slices the reduction is split into (split-K), one workgroup layer each; `store` then
   * receives the slice index and writes partial sums, which a second kernel adds up.
   */
  splits?: number;
  bindings: Binding[];
  /** Shape values the loaders use. */
  constants?: Constants;
  /** Body of `fn loadA(m : u32, k : u32) -> f32`; called only for m < M, k < K. */
  loadA: string;
  /** Body of `fn loadB(k : u32, n : u32) -> f32`; called only for k < K, n < N. */
  loadB: string;
  /** Body of `fn store(m : u32, n : u32, z : u32, v : f32)`; called only for m < M, n < N. */
  store: string;
  /**
   * Which index of A (and of B) is contiguous in memory: the tile loads walk it with
   * consecutive threads, so that neighbouring threads read neighbouring addresses.
   */
  aContiguous: 'm' | 'k';
  bContiguous: 'k' | 'n';
}

/**
 * A tiled matrix product with the operands staged through workgroup memory: the template
 * behind convolutions as implicit GEMM (forward, input gradient, filter gradient) and the
 * dense layers. A and B are read through `loadA`/`loadB`, so an im2col matrix is never
 * materialised; the epilogue `store` adds biases or accumulates gradients in place.
 */
export function gemm(options: GemmOptions): Dispatch {
  const splits = options.splits ?? 1;
  const rowTiles = Math.ceil(options.m / TILE);
  if (rowTiles > 65_535) {
    throw new RangeError(
      `${options.label}: ${options.m} output rows need ${rowTiles} workgroups in one dimension, over WebGPU's 65,535: use a smaller batch`,
    );
  }
  const chunk = Math.ceil(Math.ceil(options.k / splits) / TILE_K) * TILE_K;
  const tileLoads = (TILE * TILE_K) / THREADS;
  const index = (contiguousAlong: 'tile' | 'k') =>
    contiguousAlong === 'k'
      ? `let kk = e % ${u(TILE_K)}; let tt = e / ${u(TILE_K)};`
      : `let tt = e % ${u(TILE)}; let kk = e / ${u(TILE)};`;
  const constants: Constants = {
    M: cu(options.m),
    N: cu(options.n),
    K: cu(options.k),
    CHUNK: cu(chunk),
    ...options.constants,
  };
  const code = kernelSource(
    options.bindings,
    constants,
    `fn loadA(m : u32, k : u32) -> f32 { ${options.loadA} }
fn loadB(k : u32, n : u32) -> f32 { ${options.loadB} }
fn store(m : u32, n : u32, z : u32, v : f32) { ${options.store} }

var<workgroup> tileA : array<f32, ${TILE * TILE_K}>;
var<workgroup> tileB : array<f32, ${TILE * TILE_K}>;

@compute @workgroup_size(${THREADS_SIDE}, ${THREADS_SIDE}, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>,
        @builtin(local_invocation_index) li : u32) {
  loadConstants();
  let m0 = wg.y * ${u(TILE)};
  let n0 = wg.x * ${u(TILE)};
  // Read from the uniform block itself: the loop holds barriers, so its bounds must be
  // provably uniform, which private copies are not.
  let kBegin = wg.z * constantBlock.CHUNK;
  let kEnd = min(constantBlock.K, kBegin + constantBlock.CHUNK);
  var acc : array<array<f32, ${PER_THREAD}>, ${PER_THREAD}>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${u(TILE_K)}) {
    for (var l = 0u; l < ${u(tileLoads)}; l++) {
      let e = li + l * ${u(THREADS)};
      ${index(options.aContiguous === 'k' ? 'k' : 'tile')}
      let m = m0 + tt;
      let k = k0 + kk;
      var a = 0.0f;
      if (m < M && k < kEnd) { a = loadA(m, k); }
      tileA[kk * ${u(TILE)} + tt] = a;
    }
    for (var l = 0u; l < ${u(tileLoads)}; l++) {
      let e = li + l * ${u(THREADS)};
      ${index(options.bContiguous === 'k' ? 'k' : 'tile')}
      let n = n0 + tt;
      let k = k0 + kk;
      var b = 0.0f;
      if (n < N && k < kEnd) { b = loadB(k, n); }
      tileB[kk * ${u(TILE)} + tt] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${u(TILE_K)}; kk++) {
      var a : array<f32, ${PER_THREAD}>;
      var b : array<f32, ${PER_THREAD}>;
      for (var r = 0u; r < ${u(PER_THREAD)}; r++) {
        a[r] = tileA[kk * ${u(TILE)} + lid.y + r * ${u(THREADS_SIDE)}];
        b[r] = tileB[kk * ${u(TILE)} + lid.x + r * ${u(THREADS_SIDE)}];
      }
      for (var r = 0u; r < ${u(PER_THREAD)}; r++) {
        for (var c = 0u; c < ${u(PER_THREAD)}; c++) {
          acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${u(PER_THREAD)}; r++) {
    let m = m0 + lid.y + r * ${u(THREADS_SIDE)};
    for (var c = 0u; c < ${u(PER_THREAD)}; c++) {
      let n = n0 + lid.x + c * ${u(THREADS_SIDE)};
      if (m < M && n < N) { store(m, n, wg.z, acc[r][c]); }
    }
  }
}`,
  );
  return {
    label: options.label,
    code,
    bindings: options.bindings,
    constants,
    workgroups: [Math.ceil(options.n / TILE), rowTiles, splits],
  };
}

/**
 * Reduction slices for a product whose reduction is long and output small (a filter
 * gradient: K = batch · output pixels): enough workgroups to fill a GPU, each slice at
 * least a few hundred long.
 */
export function splitsFor(m: number, n: number, k: number): number {
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const wanted = Math.ceil(512 / tiles);
  const most = Math.floor(k / 256);
  return Math.max(1, Math.min(wanted, most, 64));
}
