import { type Binding, type Constants, cu, type Dispatch, kernelSource, u } from '../wgsl.js';

/**
 * How a product is blocked: each workgroup computes a tileM x tileN block of C, staging
 * tileK-deep slices of A and B through workgroup memory; each thread accumulates a
 * threadM x threadN block of it in registers. The best blocking depends on the shape (a
 * 16-channel layer wastes three quarters of a 64-wide tile) and on the adapter, hence a
 * table measured per shape (tiles.ts).
 */
export interface GemmTile {
  tileM: number;
  tileN: number;
  tileK: number;
  threadM: number;
  threadN: number;
  /**
   * Reduction slices of a split-K product (a filter gradient's), as measured by the tuner;
   * where absent, splitsFor's estimate. Products that are not split ignore it.
   */
  splits?: number;
}

/** The blocking used where the tile table has no entry: 64 x 64 tiles, 4 x 4 per thread. */
export const DEFAULT_TILE: GemmTile = { tileM: 64, tileN: 64, tileK: 16, threadM: 4, threadN: 4 };

/** WebGPU's guaranteed maxComputeInvocationsPerWorkgroup and workgroup storage (16 KiB). */
const MAX_THREADS = 256;
/** Most reduction slices of a split-K product: each is a full copy of the output in scratch. */
export const MAX_SPLITS = 64;
const MAX_WORKGROUP_FLOATS = 4096;

/** Throws, saying which constraint fails, unless `tile` makes a valid kernel. */
export function checkTile(tile: GemmTile): void {
  const { tileM, tileN, tileK, threadM, threadN } = tile;
  const problem = (() => {
    for (const [name, value] of Object.entries(tile)) {
      if (!Number.isInteger(value) || value < 1) return `${name} must be a positive integer`;
    }
    if (tileM % threadM !== 0 || tileN % threadN !== 0)
      return 'tileM and tileN must be multiples of threadM and threadN';
    const threads = (tileM / threadM) * (tileN / threadN);
    if (threads > MAX_THREADS) return `${threads} threads per workgroup exceed ${MAX_THREADS}`;
    // The first tileK threads fill a reduction step's KInfo slots (one each).
    if (threads < tileK) return `${threads} threads cannot fill tileK = ${tileK} reduction slots`;
    if (tile.splits !== undefined && tile.splits > MAX_SPLITS)
      return `splits ${tile.splits} exceed ${MAX_SPLITS}`;
    if ((tileM + tileN) * tileK > MAX_WORKGROUP_FLOATS)
      return `(tileM + tileN) x tileK = ${(tileM + tileN) * tileK} floats exceed 16 KiB of workgroup memory`;
    return null;
  })();
  if (problem) throw new RangeError(`GEMM tile ${tileLabel(tile)}: ${problem}`);
}

/** e.g. '64x64x16/4x4', or '64x64x16/4x4 k/8' with 8 reduction slices. */
export function tileLabel(tile: GemmTile): string {
  const blocking = `${tile.tileM}x${tile.tileN}x${tile.tileK}/${tile.threadM}x${tile.threadN}`;
  return tile.splits === undefined ? blocking : `${blocking} k/${tile.splits}`;
}

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
  /**
   * Values a row m of A needs whatever k (an output pixel's batch and corner), computed
   * once per thread before the reduction loop instead of once per element: `fields` are
   * the members of `struct RowA`, `body` that of `fn rowA(m : u32) -> RowA`.
   */
  rowA?: IndexValues;
  /**
   * Values a reduction index k needs whatever the row (a kernel tap and channel), computed
   * by tileK threads once per reduction step into workgroup memory, where every load of
   * that step reads them: `struct KInfo`, `fn kInfo(k : u32) -> KInfo`. With rowA, this
   * keeps integer division out of the element loads.
   */
  kInfo?: IndexValues;
  /**
   * Body of `fn loadA(m : u32, k : u32, row : RowA, ki : KInfo) -> f32`; called only for
   * m < M, k < K.
   */
  loadA: string;
  /** Body of `fn loadB(k : u32, n : u32, ki : KInfo) -> f32`; called only for k < K, n < N. */
  loadB: string;
  /**
   * Body of `fn loadA4(m, k, row, ki) -> vec4<f32>`: four consecutive elements along A's
   * contiguous index, used instead of loadA (whose operand is then bound as vec4<f32>). Only where that dimension and its tile side are
   * multiples of 4 (the caller checks the shape: a channel count; gemm checks the tile).
   */
  loadA4?: string;
  /** Body of `fn loadB4(k, n, ki) -> vec4<f32>`, as loadA4 for B. */
  loadB4?: string;
  /** Body of `fn store(m : u32, n : u32, z : u32, v : f32)`; called only for m < M, n < N. */
  store: string;
  /**
   * Which index of A (and of B) is contiguous in memory: the tile loads walk it with
   * consecutive threads, so that neighbouring threads read neighbouring addresses.
   */
  aContiguous: 'm' | 'k';
  bContiguous: 'k' | 'n';
  /** The blocking; DEFAULT_TILE unless given. */
  tile?: GemmTile;
}

/** A WGSL struct's members and the body of the function that fills it from one index. */
export interface IndexValues {
  fields: string;
  body: string;
}

const NO_VALUES: IndexValues = { fields: 'unused : u32', body: 'return RowA(0u);' };

/**
 * A tiled matrix product with the operands staged through workgroup memory: the template
 * behind convolutions as implicit GEMM (forward, input gradient, filter gradient) and the
 * dense layers. A and B are read through `loadA`/`loadB`, so an im2col matrix is never
 * materialised; the epilogue `store` adds biases or accumulates gradients in place.
 */
export function gemm(options: GemmOptions): Dispatch {
  const tile = options.tile ?? DEFAULT_TILE;
  checkTile(tile);
  const { tileM, tileN, tileK, threadM, threadN } = tile;
  const threadsM = tileM / threadM;
  const threadsN = tileN / threadN;
  const threads = threadsM * threadsN;
  const splits = options.splits ?? 1;
  const rowTiles = Math.ceil(options.m / tileM);
  if (rowTiles > 65_535) {
    throw new RangeError(
      `${options.label}: ${options.m} output rows need ${rowTiles} workgroups in one dimension, over WebGPU's 65,535: use a smaller batch`,
    );
  }
  const chunk = Math.ceil(Math.ceil(options.k / splits) / tileK) * tileK;
  // A tile load walks the contiguous index with consecutive threads, so that neighbouring
  // threads read neighbouring addresses; a tile not a multiple of the thread count ends
  // with a partial round.
  // Slot l of a thread's share of a tile load covers the same row (or column) at every
  // reduction step: only kk moves with k0, so row values are computed once per slot.
  // With `vector`, each slot covers four consecutive elements along the contiguous index.
  const slots = (side: number, contiguousAlong: 'tile' | 'k', body: string, vector = false) => {
    const width = vector ? 4 : 1;
    const elements = (side * tileK) / width;
    const index =
      contiguousAlong === 'k'
        ? `let kk = (e % ${u(tileK / width)}) * ${u(width)}; let tt = e / ${u(tileK / width)};`
        : `let tt = (e % ${u(side / width)}) * ${u(width)}; let kk = e / ${u(side / width)};`;
    return `for (var l = 0u; l < ${u(Math.ceil(elements / threads))}; l++) {
      let e = li + l * ${u(threads)};
      ${elements % threads === 0 ? '' : `if (e >= ${u(elements)}) { break; }`}
      ${index}
      ${body}
    }`;
  };
  const aContiguous = options.aContiguous === 'k' ? 'k' : 'tile';
  const bContiguous = options.bContiguous === 'k' ? 'k' : 'tile';
  const vectorA = options.loadA4 !== undefined;
  const vectorB = options.loadB4 !== undefined;
  for (const [vector, side, name] of [
    [vectorA, aContiguous === 'k' ? tileK : tileM, 'A'],
    [vectorB, bContiguous === 'k' ? tileK : tileN, 'B'],
  ] as const) {
    if (vector && side % 4 !== 0) {
      throw new RangeError(
        `${options.label}: vec4 loads of ${name} need its contiguous tile side (${side}) to be a multiple of 4`,
      );
    }
  }
  const roundsA = Math.ceil((tileM * tileK) / (vectorA ? 4 : 1) / threads);
  // Writes a loaded value (or vec4) to a workgroup tile: four values go to four
  // consecutive reduction rows (contiguous along k) or four consecutive columns.
  const toTile = (name: 'A' | 'B', side: number, contiguousAlong: 'tile' | 'k', vector: boolean) =>
    vector
      ? `for (var j = 0u; j < 4u; j++) { tile${name}[${contiguousAlong === 'k' ? `(kk + j) * ${u(side)} + tt` : `kk * ${u(side)} + tt + j`}] = v[j]; }`
      : `tile${name}[kk * ${u(side)} + tt] = v;`;
  const rowA = options.rowA ?? NO_VALUES;
  const kInfo = options.kInfo ?? { ...NO_VALUES, body: 'return KInfo(0u);' };
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
    `struct RowA { ${rowA.fields} }
struct KInfo { ${kInfo.fields} }
fn rowA(m : u32) -> RowA { ${rowA.body} }
fn kInfo(k : u32) -> KInfo { ${kInfo.body} }
${
  vectorA
    ? `fn loadA4(m : u32, k : u32, row : RowA, ki : KInfo) -> vec4<f32> { ${options.loadA4} }`
    : `fn loadA(m : u32, k : u32, row : RowA, ki : KInfo) -> f32 { ${options.loadA} }`
}
${
  vectorB
    ? `fn loadB4(k : u32, n : u32, ki : KInfo) -> vec4<f32> { ${options.loadB4} }`
    : `fn loadB(k : u32, n : u32, ki : KInfo) -> f32 { ${options.loadB} }`
}
fn store(m : u32, n : u32, z : u32, v : f32) { ${options.store} }

var<workgroup> tileA : array<f32, ${tileM * tileK}>;
var<workgroup> tileB : array<f32, ${tileN * tileK}>;
var<workgroup> kInfos : array<KInfo, ${tileK}>;

@compute @workgroup_size(${threadsN}, ${threadsM}, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>,
        @builtin(local_invocation_index) li : u32) {
  loadConstants();
  let m0 = wg.y * ${u(tileM)};
  let n0 = wg.x * ${u(tileN)};
  // Read from the uniform block itself: the loop holds barriers, so its bounds must be
  // provably uniform, which private copies are not.
  let kBegin = wg.z * constantBlock.CHUNK;
  let kEnd = min(constantBlock.K, kBegin + constantBlock.CHUNK);
  var acc : array<array<f32, ${threadN}>, ${threadM}>;
  var rows : array<RowA, ${roundsA}>;
  ${slots(tileM, aContiguous, 'rows[l] = rowA(min(m0 + tt, M - 1u));', vectorA)}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${u(tileK)}) {
    if (li < ${u(tileK)}) { kInfos[li] = kInfo(k0 + li); }
    workgroupBarrier();
    ${slots(
      tileM,
      aContiguous,
      `let k = k0 + kk;
      var v = ${vectorA ? 'vec4<f32>()' : '0.0f'};
      if (m0 + tt < M && k < kEnd) { v = loadA${vectorA ? '4' : ''}(m0 + tt, k, rows[l], kInfos[kk]); }
      ${toTile('A', tileM, aContiguous, vectorA)}`,
      vectorA,
    )}
    ${slots(
      tileN,
      bContiguous,
      `let k = k0 + kk;
      var v = ${vectorB ? 'vec4<f32>()' : '0.0f'};
      if (n0 + tt < N && k < kEnd) { v = loadB${vectorB ? '4' : ''}(k, n0 + tt, kInfos[kk]); }
      ${toTile('B', tileN, bContiguous, vectorB)}`,
      vectorB,
    )}
    workgroupBarrier();
    for (var kk = 0u; kk < ${u(tileK)}; kk++) {
      var a : array<f32, ${threadM}>;
      var b : array<f32, ${threadN}>;
      for (var r = 0u; r < ${u(threadM)}; r++) {
        a[r] = tileA[kk * ${u(tileM)} + lid.y + r * ${u(threadsM)}];
      }
      for (var c = 0u; c < ${u(threadN)}; c++) {
        b[c] = tileB[kk * ${u(tileN)} + lid.x + c * ${u(threadsN)}];
      }
      for (var r = 0u; r < ${u(threadM)}; r++) {
        for (var c = 0u; c < ${u(threadN)}; c++) {
          acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${u(threadM)}; r++) {
    let m = m0 + lid.y + r * ${u(threadsM)};
    for (var c = 0u; c < ${u(threadN)}; c++) {
      let n = n0 + lid.x + c * ${u(threadsN)};
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
    workgroups: [Math.ceil(options.n / tileN), rowTiles, splits],
  };
}

/**
 * Reduction slices for a product whose reduction is long and output small (a filter
 * gradient: K = batch · output pixels): enough workgroups to fill a GPU, each slice at
 * least a few hundred long.
 */
export function splitsFor(m: number, n: number, k: number, tile: GemmTile = DEFAULT_TILE): number {
  const tiles = Math.ceil(m / tile.tileM) * Math.ceil(n / tile.tileN);
  const wanted = Math.ceil(512 / tiles);
  const most = Math.floor(k / 256);
  return Math.max(1, Math.min(wanted, most, MAX_SPLITS));
}

/**
 * The slices a split-K product runs: the tile's measured count where it has one, else
 * splitsFor's; never more than the reduction has tileK-deep steps (a slice past them
 * would only add zeros).
 */
export function splitsOf(m: number, n: number, k: number, tile: GemmTile): number {
  const steps = Math.max(1, Math.ceil(k / tile.tileK));
  return Math.min(tile.splits ?? splitsFor(m, n, k, tile), steps);
}
