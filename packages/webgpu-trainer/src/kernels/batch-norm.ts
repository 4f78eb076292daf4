import {
  type BufferRef,
  type Constants,
  cf,
  cu,
  type Dispatch,
  ELEMENTWISE_THREADS,
  elementwise,
  kernelSource,
  u,
  WORKGROUP_SUM,
} from '../wgsl.js';

/** A batch norm over `rows` rows (batch · pixels) of `channels` channels. */
export interface BatchNormShape {
  rows: number;
  channels: number;
  epsilon: number;
}

/**
 * A kernel with one workgroup per channel: its threads stride over the rows and reduce
 * with workgroupSum. `body` sees `c` (the channel) and `li` (the thread).
 */
function perChannel(options: {
  label: string;
  shape: BatchNormShape;
  bindings: { name: string; ref: BufferRef }[];
  constants?: Constants;
  body: string;
}): Dispatch {
  const { rows, channels } = options.shape;
  const constants: Constants = { R: cu(rows), C: cu(channels), ...options.constants };
  const code = kernelSource(
    options.bindings,
    constants,
    `${WORKGROUP_SUM}
@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_index) li : u32) {
  loadConstants();
  let c = wg.x;
  ${options.body}
}`,
  );
  return {
    label: options.label,
    code,
    bindings: options.bindings,
    constants,
    workgroups: [channels, 1, 1],
  };
}

/**
 * The batch's mean and 1/√(var + ε) per channel (two passes over the rows, so the
 * variance is a sum of squared deviations, not a difference of large sums) into
 * stats = [mean | inverse std], and the moving statistics moved towards them:
 * m ← keep·m + (1 − keep)·batch, the variance taking the unbiased batch variance (PyTorch;
 * `keep` is the spec's Keras-convention momentum).
 */
export function batchNormStatistics(options: {
  label: string;
  shape: BatchNormShape;
  keep: number;
  x: BufferRef;
  stats: BufferRef;
  /** [moving mean | moving variance]. */
  moving: BufferRef;
}): Dispatch {
  const { rows } = options.shape;
  const unbiased = rows > 1 ? rows / (rows - 1) : 1;
  return perChannel({
    label: options.label,
    shape: options.shape,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'stats', ref: options.stats },
      { name: 'moving', ref: options.moving },
    ],
    constants: {
      EPSILON: cf(options.shape.epsilon),
      KEEP: cf(options.keep),
      UNBIASED: cf(unbiased),
    },
    body: `
  var s = 0.0f;
  for (var r = li; r < R; r += ${u(ELEMENTWISE_THREADS)}) { s += x[r * C + c]; }
  let mean = workgroupSum(li, s) / f32(R);
  var q = 0.0f;
  for (var r = li; r < R; r += ${u(ELEMENTWISE_THREADS)}) {
    let d = x[r * C + c] - mean;
    q += d * d;
  }
  let variance = workgroupSum(li, q) / f32(R);
  if (li == 0u) {
    stats[c] = mean;
    stats[C + c] = inverseSqrt(variance + EPSILON);
    moving[c] = moving[c] * KEEP + mean * (1.0f - KEEP);
    moving[C + c] = moving[C + c] * KEEP + variance * UNBIASED * (1.0f - KEEP);
  }`,
  });
}

/** y = (x − mean)·(γ·s) + β over the batch's statistics, rectified with `relu`. */
export function batchNormApply(options: {
  label: string;
  shape: BatchNormShape;
  relu: boolean;
  x: BufferRef;
  stats: BufferRef;
  /** [gamma | beta]. */
  gammaBeta: BufferRef;
  y: BufferRef;
}): Dispatch {
  const { rows, channels } = options.shape;
  return elementwise({
    label: options.label,
    count: rows * channels,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'stats', ref: options.stats },
      { name: 'gb', ref: options.gammaBeta },
      { name: 'y', ref: options.y },
    ],
    constants: { C: cu(channels) },
    body: `
    let c = idx % C;
    let v = (x[idx] - stats[c]) * (gb[c] * stats[C + c]) + gb[C + c];
    y[idx] = ${options.relu ? 'max(v, 0.0f)' : 'v'};`,
  });
}

/** y = (x − moving mean)·(γ/√(moving var + ε)) + β, rectified with `relu` (inference). */
export function batchNormInference(options: {
  label: string;
  shape: BatchNormShape;
  relu: boolean;
  x: BufferRef;
  gammaBeta: BufferRef;
  moving: BufferRef;
  y: BufferRef;
}): Dispatch {
  const { rows, channels, epsilon } = options.shape;
  return elementwise({
    label: options.label,
    count: rows * channels,
    constants: { C: cu(channels), EPSILON: cf(epsilon) },
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'gb', ref: options.gammaBeta },
      { name: 'moving', ref: options.moving },
      { name: 'y', ref: options.y },
    ],
    body: `
    let c = idx % C;
    let scale = gb[c] * inverseSqrt(moving[C + c] + EPSILON);
    let v = (x[idx] - moving[c]) * scale + gb[C + c];
    y[idx] = ${options.relu ? 'max(v, 0.0f)' : 'v'};`,
  });
}

/**
 * The incoming gradient, masked where the fused ReLU's output (recomputed from x, the
 * statistics and γ, β exactly as the forward pass computed it) was not positive.
 */
const maskedGradient = (relu: boolean) =>
  relu
    ? `let y = (x[i] - stats[c]) * (gb[c] * stats[C + c]) + gb[C + c];
    let g = select(0.0f, dy[i], y > 0.0f);`
    : 'let g = dy[i];';

/**
 * The gradients of the batch norm's parameters: dβ = Σ g, dγ = s·Σ g·(x − mean), written to
 * the arena as [dγ | dβ].
 */
export function batchNormParameterGradients(options: {
  label: string;
  shape: BatchNormShape;
  relu: boolean;
  x: BufferRef;
  dy: BufferRef;
  stats: BufferRef;
  gammaBeta: BufferRef;
  dGammaBeta: BufferRef;
}): Dispatch {
  const bindings = [
    { name: 'x', ref: options.x },
    { name: 'dy', ref: options.dy },
    { name: 'stats', ref: options.stats },
    { name: 'dgb', ref: options.dGammaBeta },
  ];
  if (options.relu) bindings.push({ name: 'gb', ref: options.gammaBeta });
  return perChannel({
    label: options.label,
    shape: options.shape,
    bindings,
    body: `
  let mean = stats[c];
  var sumG = 0.0f;
  var sumGX = 0.0f;
  for (var r = li; r < R; r += ${u(ELEMENTWISE_THREADS)}) {
    let i = r * C + c;
    ${maskedGradient(options.relu)}
    sumG += g;
    sumGX += g * (x[i] - mean);
  }
  let dBeta = workgroupSum(li, sumG);
  let dGamma = workgroupSum(li, sumGX) * stats[C + c];
  if (li == 0u) {
    dgb[c] = dGamma;
    dgb[C + c] = dBeta;
  }`,
  });
}

/**
 * dx = γ·s·(g − dβ/R − x̂·dγ/R), x̂ = (x − mean)·s (Ioffe & Szegedy); with `accumulate`,
 * added to dx.
 */
export function batchNormInputGradient(options: {
  label: string;
  shape: BatchNormShape;
  relu: boolean;
  accumulate: boolean;
  x: BufferRef;
  dy: BufferRef;
  stats: BufferRef;
  gammaBeta: BufferRef;
  dGammaBeta: BufferRef;
  dx: BufferRef;
}): Dispatch {
  const { rows, channels } = options.shape;
  return elementwise({
    label: options.label,
    count: rows * channels,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'dy', ref: options.dy },
      { name: 'stats', ref: options.stats },
      { name: 'gb', ref: options.gammaBeta },
      { name: 'dgb', ref: options.dGammaBeta },
      { name: 'dx', ref: options.dx },
    ],
    constants: { C: cu(channels), INVERSE_ROWS: cf(1 / rows) },
    body: `
    let i = idx;
    let c = i % C;
    ${maskedGradient(options.relu)}
    let s = stats[C + c];
    let xHat = (x[i] - stats[c]) * s;
    let v = gb[c] * s * (g - dgb[C + c] * INVERSE_ROWS - xHat * dgb[c] * INVERSE_ROWS);
    dx[i] ${options.accumulate ? '+=' : '='} v;`,
  });
}
