import {
  type Binding,
  type BufferRef,
  type Constants,
  cf,
  cu,
  type Dispatch,
  ELEMENTWISE_THREADS,
  elementwise,
  kernelSource,
} from '../wgsl.js';

/** A batch norm over `rows` rows (batch · pixels) of `channels` channels. */
export interface BatchNormShape {
  rows: number;
  channels: number;
  epsilon: number;
}

/** Rows each thread of a partial-sum workgroup adds up (a workgroup covers lanes x this). */
const ROWS_PER_THREAD = 32;

/**
 * How a per-channel sum over the rows is spread: a workgroup covers `lanes` adjacent
 * channels (so neighbouring threads read neighbouring addresses of an NHWC row) times
 * 256/lanes row lanes, over one slice of the rows; the slices' partial sums are added up by
 * a second, per-channel kernel. One workgroup per channel would leave all but a few of a
 * GPU's multiprocessors idle at 16 channels and read memory with a 64-byte stride.
 */
function sumLayout(shape: BatchNormShape) {
  const lanes = Math.min(64, 2 ** Math.ceil(Math.log2(shape.channels)));
  const rowLanes = ELEMENTWISE_THREADS / lanes;
  const groups = Math.min(Math.ceil(shape.rows / (rowLanes * ROWS_PER_THREAD)), 65_535);
  return {
    lanes,
    rowLanes,
    groups,
    rowsPerGroup: Math.ceil(shape.rows / groups),
    channelGroups: Math.ceil(shape.channels / lanes),
  };
}

/** Floats of the partial sums a batch norm's reductions need (two sums per slice and channel). */
export function partialSumsSize(shape: BatchNormShape): number {
  return 2 * sumLayout(shape).groups * shape.channels;
}

/**
 * Two sums per channel over one slice of the rows each: `body` runs per element index `i`
 * of channel `c` (after `setup`, once per thread) and adds a vec2 to `acc`; partials
 * receive [slice][channel][2].
 */
function partialSums(options: {
  label: string;
  shape: BatchNormShape;
  bindings: Binding[];
  setup: string;
  body: string;
}): Dispatch {
  const layout = sumLayout(options.shape);
  const constants: Constants = {
    R: cu(options.shape.rows),
    C: cu(options.shape.channels),
    LANES: cu(layout.lanes),
    ROW_LANES: cu(layout.rowLanes),
    ROWS_PER_GROUP: cu(layout.rowsPerGroup),
  };
  const code = kernelSource(
    options.bindings,
    constants,
    `var<workgroup> sums : array<vec2<f32>, ${ELEMENTWISE_THREADS}>;
@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_index) li : u32) {
  loadConstants();
  let lane = li % LANES;
  let rowLane = li / LANES;
  let c = wg.x * LANES + lane;
  var acc = vec2<f32>(0.0f, 0.0f);
  if (c < C) {
    ${options.setup}
    let rowEnd = min(R, (wg.y + 1u) * ROWS_PER_GROUP);
    for (var r = wg.y * ROWS_PER_GROUP + rowLane; r < rowEnd; r += ROW_LANES) {
      let i = r * C + c;
      ${options.body}
    }
  }
  sums[li] = acc;
  workgroupBarrier();
  if (rowLane == 0u && c < C) {
    var total = vec2<f32>(0.0f, 0.0f);
    for (var k = 0u; k < ROW_LANES; k++) { total += sums[k * LANES + lane]; }
    let at = (wg.y * C + c) * 2u;
    partials[at] = total.x;
    partials[at + 1u] = total.y;
  }
}`,
  );
  return {
    label: options.label,
    code,
    bindings: options.bindings,
    constants,
    workgroups: [layout.channelGroups, layout.groups, 1],
  };
}

/**
 * One thread per channel combining the slices' partial sums, then `body`. 'sums' adds
 * them up into `s1`, `s2`. 'moments' reads each slice's pair as Σd, Σd² over its own
 * rows, turns it into that slice's mean and sum of squared deviations, and merges the
 * slices pairwise (Chan, Golub & LeVeque): `mean` and `m2` of d over all rows, with no
 * difference of two large sums over the whole batch.
 */
function finishSums(options: {
  label: string;
  shape: BatchNormShape;
  bindings: Binding[];
  constants: Constants;
  combine: 'sums' | 'moments';
  body: string;
}): Dispatch {
  const layout = sumLayout(options.shape);
  const slice = (g: string) => `partials[(${g} * C + c) * 2u]`;
  const sliceSquares = (g: string) => `partials[(${g} * C + c) * 2u + 1u]`;
  const combine =
    options.combine === 'sums'
      ? `var s1 = 0.0f;
    var s2 = 0.0f;
    for (var g = 0u; g < SLICES; g++) {
      s1 += ${slice('g')};
      s2 += ${sliceSquares('g')};
    }`
      : `var count = 0.0f;
    var mean = 0.0f;
    var m2 = 0.0f;
    for (var g = 0u; g < SLICES; g++) {
      let n = f32(min(R, (g + 1u) * ROWS_PER_GROUP) - g * ROWS_PER_GROUP);
      let sliceMean = ${slice('g')} / n;
      let sliceM2 = max(${sliceSquares('g')} - ${slice('g')} * sliceMean, 0.0f);
      let total = count + n;
      let delta = sliceMean - mean;
      mean += delta * (n / total);
      m2 += sliceM2 + delta * delta * (count * n / total);
      count = total;
    }`;
  return elementwise({
    label: options.label,
    count: options.shape.channels,
    bindings: options.bindings,
    constants: {
      R: cu(options.shape.rows),
      C: cu(options.shape.channels),
      SLICES: cu(layout.groups),
      ROWS_PER_GROUP: cu(layout.rowsPerGroup),
      ...options.constants,
    },
    body: `
    let c = idx;
    ${combine}
    ${options.body}`,
  });
}

/**
 * The batch's mean and 1/√(var + ε) per channel into stats = [mean | inverse std], in one
 * pass over the rows: sums of d and d² with d = x − x[row 0] per slice of rows (shifting by
 * a sample keeps them well conditioned where |mean| ≫ std), the slices' moments merged
 * pairwise (finishSums 'moments'), and the moving statistics
 * moved towards them: m ← keep·m + (1 − keep)·batch, the variance taking the unbiased batch
 * variance (PyTorch; `keep` is the spec's Keras-convention momentum). Two dispatches.
 */
export function batchNormStatistics(options: {
  label: string;
  shape: BatchNormShape;
  keep: number;
  x: BufferRef;
  partials: BufferRef;
  stats: BufferRef;
  /** [moving mean | moving variance]. */
  moving: BufferRef;
}): Dispatch[] {
  const { rows } = options.shape;
  const unbiased = rows > 1 ? rows / (rows - 1) : 1;
  return [
    partialSums({
      label: `${options.label}:sums`,
      shape: options.shape,
      bindings: [
        { name: 'x', ref: options.x },
        { name: 'partials', ref: options.partials },
      ],
      setup: 'let shift = x[c];',
      body: `let d = x[i] - shift;
      acc += vec2<f32>(d, d * d);`,
    }),
    finishSums({
      label: options.label,
      shape: options.shape,
      bindings: [
        { name: 'x', ref: options.x },
        { name: 'partials', ref: options.partials },
        { name: 'stats', ref: options.stats },
        { name: 'moving', ref: options.moving },
      ],
      constants: {
        EPSILON: cf(options.shape.epsilon),
        KEEP: cf(options.keep),
        UNBIASED: cf(unbiased),
      },
      combine: 'moments',
      body: `
    let batchMean = x[c] + mean;
    let variance = m2 / f32(R);
    stats[c] = batchMean;
    stats[C + c] = inverseSqrt(variance + EPSILON);
    moving[c] = moving[c] * KEEP + batchMean * (1.0f - KEEP);
    moving[C + c] = moving[C + c] * KEEP + variance * UNBIASED * (1.0f - KEEP);`,
    }),
  ];
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
 * the arena as [dγ | dβ]. Two dispatches (slice sums, then their total).
 */
export function batchNormParameterGradients(options: {
  label: string;
  shape: BatchNormShape;
  relu: boolean;
  x: BufferRef;
  dy: BufferRef;
  stats: BufferRef;
  gammaBeta: BufferRef;
  partials: BufferRef;
  dGammaBeta: BufferRef;
}): Dispatch[] {
  const bindings: Binding[] = [
    { name: 'x', ref: options.x },
    { name: 'dy', ref: options.dy },
    { name: 'stats', ref: options.stats },
    { name: 'partials', ref: options.partials },
  ];
  if (options.relu) bindings.push({ name: 'gb', ref: options.gammaBeta });
  return [
    partialSums({
      label: `${options.label}:sums`,
      shape: options.shape,
      bindings,
      setup: 'let mean = stats[c];',
      body: `${maskedGradient(options.relu)}
      acc += vec2<f32>(g, g * (x[i] - mean));`,
    }),
    finishSums({
      label: options.label,
      shape: options.shape,
      bindings: [
        { name: 'partials', ref: options.partials },
        { name: 'stats', ref: options.stats },
        { name: 'dgb', ref: options.dGammaBeta },
      ],
      constants: {},
      combine: 'sums',
      body: `
    dgb[c] = s2 * stats[C + c];
    dgb[C + c] = s1;`,
    }),
  ];
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
