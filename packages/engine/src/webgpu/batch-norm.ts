import type { tf } from '../tf.js';
import {
  type ProgramUniform,
  runElementwise,
  sizeOf,
  type WebgpuBackend,
  type WebgpuProgram,
} from './program.js';

/** Threads per workgroup of every program here. */
const THREADS = 256;
/** Row blocks of a reduction's first pass: enough workgroups to fill a large GPU. */
const MAX_BLOCKS = 512;
/** Fewest rows a block's lanes share, so a block is not mostly launch overhead. */
const MIN_ROWS_PER_BLOCK = 64;

/**
 * Combines two (count, mean, sum of squared deviations) triples (Chan et al.): exact in
 * any order, and without the cancellation of E[x²] − E[x]² when |mean| ≫ std.
 */
const CHAN = `
  fn chan(a : vec3<f32>, b : vec3<f32>) -> vec3<f32> {
    let n = a.x + b.x;
    if (n == 0.0) {
      return a;
    }
    let d = b.y - a.y;
    let f = b.x / n;
    return vec3<f32>(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
  }
`;

/**
 * The lanes of a first-pass workgroup: `perRow` consecutive threads read one row's
 * channels (coalesced), `lanes` such groups stride down the block's rows. Channel tiles of
 * 256 along the dispatch's y cover wider layers.
 */
const LANES = `
  let channels = uniforms.channels;
  let t = i32(localIndex);
  let perRow = min(channels, ${THREADS});
  let lanes = ${THREADS} / perRow;
  let lane = t / perRow;
  let c = i32(workgroupId.y) * ${THREADS} + t % perRow;
  let start = i32(workgroupId.x) * uniforms.rowsPerBlock;
  let end = min(start + uniforms.rowsPerBlock, uniforms.rows);
  let inRange = lane < lanes && c < channels;
`;

/**
 * The incoming gradient at flat index i: dy, or, after a fused ReLU whose output y is
 * bound, dy where y > 0 and 0 elsewhere (tfjs's ReLU gradient).
 */
const incoming = (relu: boolean, i: string) =>
  relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`;

/** The channel c of flat index `index`, C being the moments' width. */
const CHANNEL = `
  let channels = uniforms.momentsShape.y;
  let c = index % channels;
`;

function blocks(rows: number): { count: number; rowsPerBlock: number } {
  const count = Math.max(1, Math.min(MAX_BLOCKS, Math.floor(rows / MIN_ROWS_PER_BLOCK)));
  const rowsPerBlock = Math.ceil(rows / count);
  return { count: Math.ceil(rows / rowsPerBlock), rowsPerBlock };
}

/**
 * A first pass over x (any rank, channels last, viewed as [rows, C]): one workgroup per
 * block of rows and tile of 256 channels (see LANES), writing `components` values per
 * channel and block. Output [blocks, components, C]; uniforms as `layout` gives them.
 */
abstract class FirstPassProgram implements WebgpuProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout = { x: [0], y: [2] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'rows : i32, channels : i32, rowsPerBlock : i32,';

  constructor(count: number, channels: number, components: number) {
    this.outputShape = [count, components, channels];
    this.dispatch = [count, Math.ceil(channels / THREADS), 1];
  }

  abstract getUserCode(): string;
}

/**
 * First pass of the per-channel moments: per block of rows, each lane runs Welford's
 * update over its rows, then lane 0 of each channel combines the lanes. Components:
 * count, mean, sum of squared deviations.
 */
class MomentsPartialProgram extends FirstPassProgram {
  variableNames = ['x'];
  shaderKey = 'prunefuse_bnMomentsPartial';

  constructor(count: number, channels: number) {
    super(count, channels, 3);
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<vec3<f32>, ${THREADS}>;
      ${CHAN}
      fn main() {
        ${LANES}
        var acc = vec3<f32>(0.0, 0.0, 0.0);
        if (inRange) {
          for (var r = start + lane; r < end; r = r + lanes) {
            let v = x[r * channels + c];
            let n = acc.x + 1.0;
            let d = v - acc.y;
            let mean = acc.y + d / n;
            acc = vec3<f32>(n, mean, acc.z + d * (v - mean));
          }
        }
        partial[t] = acc;
        workgroupBarrier();
        if (inRange && lane == 0) {
          for (var j = 1; j < lanes; j = j + 1) {
            acc = chan(acc, partial[t + j * perRow]);
          }
          let base = i32(workgroupId.x) * 3 * channels + c;
          result[base] = acc.x;
          result[base + channels] = acc.y;
          result[base + 2 * channels] = acc.z;
        }
      }
    `;
  }
}

/**
 * Second pass: one workgroup per channel combines the blocks' triples (a tree in
 * workgroup memory). Output [3, C]: mean, biased variance, 1/√(variance + ε).
 */
class MomentsProgram implements WebgpuProgram {
  variableNames = ['partial'];
  outputShape: number[];
  shaderKey = 'prunefuse_bnMoments';
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'epsilon : f32,';

  constructor(channels: number) {
    this.outputShape = [3, channels];
    this.dispatch = [channels, 1, 1];
  }

  getUserCode(): string {
    return `
      var<workgroup> partial2 : array<vec3<f32>, ${THREADS}>;
      ${CHAN}
      fn main() {
        let blocks = uniforms.partialShape.x;
        let channels = uniforms.partialShape.z;
        let c = i32(workgroupId.x);
        let t = i32(localIndex);
        var acc = vec3<f32>(0.0, 0.0, 0.0);
        for (var b = t; b < blocks; b = b + ${THREADS}) {
          let base = b * 3 * channels + c;
          acc = chan(acc, vec3<f32>(partial[base], partial[base + channels], partial[base + 2 * channels]));
        }
        partial2[t] = acc;
        workgroupBarrier();
        for (var s = ${THREADS / 2}; s > 0; s = s / 2) {
          if (t < s) {
            partial2[t] = chan(partial2[t], partial2[t + s]);
          }
          workgroupBarrier();
        }
        if (t == 0) {
          let total = partial2[0];
          let variance = total.z / total.x;
          result[c] = total.y;
          result[channels + c] = variance;
          result[2 * channels + c] = 1.0 / sqrt(variance + uniforms.epsilon);
        }
      }
    `;
  }
}

/**
 * First pass of the gradient's channel sums: per block, Σ dy and Σ dy·(x − mean) (dy
 * masked by a fused ReLU's output where bound); the second is scaled by s in the second
 * pass. Output [blocks, 2, C].
 */
class GradientSumsPartialProgram extends FirstPassProgram {
  variableNames: string[];
  shaderKey: string;

  constructor(
    count: number,
    channels: number,
    private readonly relu: boolean,
  ) {
    super(count, channels, 2);
    this.variableNames = relu ? ['dy', 'x', 'moments', 'y'] : ['dy', 'x', 'moments'];
    this.shaderKey = `prunefuse_bnGradientSumsPartial${relu ? 'Relu' : ''}`;
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<vec2<f32>, ${THREADS}>;
      fn main() {
        ${LANES}
        var acc = vec2<f32>(0.0, 0.0);
        if (inRange) {
          let mean = moments[c];
          for (var r = start + lane; r < end; r = r + lanes) {
            let i = r * channels + c;
            let g = ${incoming(this.relu, 'i')};
            acc = acc + vec2<f32>(g, g * (x[i] - mean));
          }
        }
        partial[t] = acc;
        workgroupBarrier();
        if (inRange && lane == 0) {
          for (var j = 1; j < lanes; j = j + 1) {
            acc = acc + partial[t + j * perRow];
          }
          let base = i32(workgroupId.x) * 2 * channels + c;
          result[base] = acc.x;
          result[base + channels] = acc.y;
        }
      }
    `;
  }
}

/**
 * Second pass: one workgroup per channel sums one component of the blocks' sums: 0 gives
 * dβ = Σ dy, 1 gives dγ = s·Σ dy·(x − mean) = Σ dy·x̂. Output [C].
 */
class GradientSumProgram implements WebgpuProgram {
  /** Dawn drops a binding the shader never reads, so dβ's program does not bind the moments. */
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  constructor(
    channels: number,
    private readonly component: 0 | 1,
  ) {
    this.outputShape = [channels];
    this.dispatch = [channels, 1, 1];
    this.shaderKey = `prunefuse_bnGradientSum${component}`;
    this.variableNames = component === 1 ? ['partial', 'moments'] : ['partial'];
  }

  getUserCode(): string {
    return `
      var<workgroup> sums : array<f32, ${THREADS}>;
      fn main(index : i32) {
        let blocks = uniforms.partialShape.x;
        let channels = uniforms.partialShape.z;
        let c = i32(workgroupId.x);
        let t = i32(localIndex);
        var acc = 0.0;
        for (var b = t; b < blocks; b = b + ${THREADS}) {
          acc = acc + partial[(b * 2 + ${this.component}) * channels + c];
        }
        sums[t] = acc;
        workgroupBarrier();
        for (var s = ${THREADS / 2}; s > 0; s = s / 2) {
          if (t < s) {
            sums[t] = sums[t] + sums[t + s];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          result[c] = sums[0]${this.component === 1 ? ' * moments[2 * channels + c]' : ''};
        }
      }
    `;
  }
}

/** A first pass's blocks over x viewed as [rows, C], C its last axis. */
function layout(x: Info): { channels: number; count: number; uniforms: ProgramUniform } {
  const channels = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / channels;
  const { count, rowsPerBlock } = blocks(rows);
  return {
    channels,
    count,
    uniforms: [
      { type: 'int32', data: [rows] },
      { type: 'int32', data: [channels] },
      { type: 'int32', data: [rowsPerBlock] },
    ],
  };
}

type Args<I, A> = { inputs: I; backend: WebgpuBackend; attrs: A };
type Info = tf.TensorInfo;

export function momentsWebgpu({
  inputs: { x },
  backend,
  attrs: { epsilon },
}: Args<{ x: Info }, { epsilon: number }>): Info {
  const { channels, count, uniforms } = layout(x);
  const partial = backend.runWebGPUProgram(
    new MomentsPartialProgram(count, channels),
    [x],
    'float32',
    uniforms,
  );
  const moments = backend.runWebGPUProgram(new MomentsProgram(channels), [partial], 'float32', [
    { type: 'float32', data: [epsilon] },
  ]);
  backend.disposeData(partial.dataId);
  return moments;
}

export function normaliseWebgpu({
  inputs: { x, moments, gamma, beta },
  backend,
  attrs: { relu },
}: Args<{ x: Info; moments: Info; gamma: Info; beta: Info }, { relu: boolean }>): Info {
  // y = γ·(x − mean)·s + β, then its ReLU if asked.
  const value = '(x[index] - moments[c]) * gamma[c] * moments[2 * channels + c] + beta[c]';
  return runElementwise(backend, {
    key: `prunefuse_bnNormalise${relu ? 'Relu' : ''}`,
    inputs: { x, moments, gamma, beta },
    shape: x.shape,
    body: `${CHANNEL}
      let value = ${relu ? `max(${value}, 0.0)` : value};`,
  });
}

export function parameterGradientsWebgpu({
  inputs: { dy, x, moments, y },
  backend,
}: Args<{ dy: Info; x: Info; moments: Info; y?: Info }, unknown>): Info[] {
  const { channels, count, uniforms } = layout(x);
  const partial = backend.runWebGPUProgram(
    new GradientSumsPartialProgram(count, channels, y !== undefined),
    y ? [dy, x, moments, y] : [dy, x, moments],
    'float32',
    uniforms,
  );
  const sums = ([1, 0] as const).map((component) =>
    backend.runWebGPUProgram(
      new GradientSumProgram(channels, component),
      component === 1 ? [partial, moments] : [partial],
      'float32',
    ),
  );
  backend.disposeData(partial.dataId);
  return sums;
}

export function inputGradientWebgpu({
  inputs: { dy, x, moments, gamma, dGamma, dBeta, y },
  backend,
}: Args<
  { dy: Info; x: Info; moments: Info; gamma: Info; dGamma: Info; dBeta: Info; y?: Info },
  unknown
>): Info {
  // dx = γ·s·(dy − dβ/n − x̂·dγ/n), n = rows (Ioffe & Szegedy); dy masked by a fused
  // ReLU's output where bound.
  return runElementwise(backend, {
    key: `prunefuse_bnInputGradient${y ? 'Relu' : ''}`,
    inputs: { dy, x, moments, gamma, dGamma, dBeta, y },
    shape: x.shape,
    body: `${CHANNEL}
      let n = f32(uniforms.size / channels);
      let s = moments[2 * channels + c];
      let xHat = (x[index] - moments[c]) * s;
      let g = ${incoming(y !== undefined, 'index')};
      let value = gamma[c] * s * (g - dBeta[c] / n - xHat * dGamma[c] / n);`,
  });
}

export function movingAverageWebgpu({
  inputs: { moving, moments },
  backend,
  attrs: { row, keep, scale },
}: Args<{ moving: Info; moments: Info }, { row: number; keep: number; scale: number }>): Info {
  // moving·keep + moments[row]·scale·(1 − keep), over [C].
  return runElementwise(backend, {
    key: 'prunefuse_movingAverage',
    inputs: { moving, moments },
    shape: moving.shape,
    body: `let statistic = moments[uniforms.row * uniforms.size + index] * uniforms.scale;
      let value = moving[index] * uniforms.keep + statistic * (1.0 - uniforms.keep);`,
    uniforms: { row: ['i32', row], keep: ['f32', keep], scale: ['f32', scale] },
  });
}
