import {
  type Binding,
  type BufferRef,
  type Constants,
  ci,
  cu,
  type Dispatch,
  elementwise,
} from '../wgsl.js';

const assign = (accumulate: boolean) => (accumulate ? '+=' : '=');

export function reluForward(label: string, count: number, x: BufferRef, y: BufferRef): Dispatch {
  return elementwise({
    label,
    count,
    bindings: [
      { name: 'x', ref: x },
      { name: 'y', ref: y },
    ],
    body: 'y[idx] = max(x[idx], 0.0f);',
  });
}

/** dx (+)= dy where the ReLU's output y was positive. */
export function reluBackward(options: {
  label: string;
  count: number;
  y: BufferRef;
  dy: BufferRef;
  dx: BufferRef;
  accumulate: boolean;
}): Dispatch {
  return elementwise({
    label: options.label,
    count: options.count,
    bindings: [
      { name: 'y', ref: options.y },
      { name: 'dy', ref: options.dy },
      { name: 'dx', ref: options.dx },
    ],
    body: `dx[idx] ${assign(options.accumulate)} select(0.0f, dy[idx], y[idx] > 0.0f);`,
  });
}

/** y = Σ inputs, rectified with `relu` (a residual addition). */
export function addForward(options: {
  label: string;
  count: number;
  inputs: BufferRef[];
  y: BufferRef;
  relu: boolean;
}): Dispatch {
  const bindings: Binding[] = options.inputs.map((ref, k) => ({ name: `x${k}`, ref }));
  bindings.push({ name: 'y', ref: options.y });
  const sum = options.inputs.map((_, k) => `x${k}[idx]`).join(' + ');
  return elementwise({
    label: options.label,
    count: options.count,
    bindings,
    body: `y[idx] = ${options.relu ? `max(${sum}, 0.0f)` : sum};`,
  });
}

/**
 * Each input's gradient (+)= dy, masked by the fused ReLU's output y: one pass writing
 * every input's gradient. `outputs` are the inputs that need one (not the image).
 */
export function addBackward(options: {
  label: string;
  count: number;
  y: BufferRef | null;
  dy: BufferRef;
  outputs: { dx: BufferRef; accumulate: boolean }[];
}): Dispatch {
  const bindings: Binding[] = [{ name: 'dy', ref: options.dy }];
  if (options.y) bindings.push({ name: 'y', ref: options.y });
  options.outputs.forEach((o, k) => {
    bindings.push({ name: `dx${k}`, ref: o.dx });
  });
  const g = options.y ? 'select(0.0f, dy[idx], y[idx] > 0.0f)' : 'dy[idx]';
  return elementwise({
    label: options.label,
    count: options.count,
    bindings,
    body: `let g = ${g};
    ${options.outputs.map((o, k) => `dx${k}[idx] ${assign(o.accumulate)} g;`).join('\n    ')}`,
  });
}

/** A max pool's shapes (NHWC), square windows. */
export interface PoolGeometry {
  batch: number;
  height: number;
  width: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  size: number;
  stride: number;
  padTop: number;
  padLeft: number;
}

const poolConstants = (g: PoolGeometry): Constants => ({
  H: cu(g.height),
  W: cu(g.width),
  C: cu(g.channels),
  HO: cu(g.outHeight),
  WO: cu(g.outWidth),
  SIZE: cu(g.size),
  S: cu(g.stride),
  PT: ci(g.padTop),
  PL: ci(g.padLeft),
});

/**
 * y = the window's maximum, padding never winning; with `argmax`, also the flat input
 * index of the first maximum in row-major window order (tfjs's tie rule), which the
 * backward pass routes the gradient to.
 */
export function maxPoolForward(options: {
  label: string;
  geometry: PoolGeometry;
  x: BufferRef;
  y: BufferRef;
  argmax: BufferRef | null;
}): Dispatch {
  const g = options.geometry;
  const bindings: Binding[] = [
    { name: 'x', ref: options.x },
    { name: 'y', ref: options.y },
  ];
  if (options.argmax) bindings.push({ name: 'argmax', ref: options.argmax, type: 'u32' });
  return elementwise({
    label: options.label,
    count: g.batch * g.outHeight * g.outWidth * g.channels,
    bindings,
    constants: poolConstants(g),
    body: `
    let c = idx % C; let t = idx / C; let ow = t % WO; let t2 = t / WO; let oh = t2 % HO; let b = t2 / HO;
    var best = -3.402823e38f;
    var at = 0u;
    for (var ky = 0u; ky < SIZE; ky++) {
      let ih = i32(oh * S + ky) - PT;
      if (ih < 0 || ih >= i32(H)) { continue; }
      for (var kx = 0u; kx < SIZE; kx++) {
        let iw = i32(ow * S + kx) - PL;
        if (iw < 0 || iw >= i32(W)) { continue; }
        let j = ((b * H + u32(ih)) * W + u32(iw)) * C + c;
        if (x[j] > best) { best = x[j]; at = j; }
      }
    }
    y[idx] = best;
    ${options.argmax ? 'argmax[idx] = at;' : ''}`,
  });
}

/** dx[j] (+)= Σ dy over the windows whose maximum was at j: one thread per input element. */
export function maxPoolBackward(options: {
  label: string;
  geometry: PoolGeometry;
  argmax: BufferRef;
  dy: BufferRef;
  dx: BufferRef;
  accumulate: boolean;
}): Dispatch {
  const g = options.geometry;
  return elementwise({
    label: options.label,
    count: g.batch * g.height * g.width * g.channels,
    bindings: [
      { name: 'argmax', ref: options.argmax, type: 'u32' },
      { name: 'dy', ref: options.dy },
      { name: 'dx', ref: options.dx },
    ],
    constants: poolConstants(g),
    body: `
    let c = idx % C; let t = idx / C; let iw = t % W; let t2 = t / W; let ih = t2 % H; let b = t2 / H;
    var total = 0.0f;
    // The windows covering (ih, iw): oh·S − PT <= ih < oh·S − PT + SIZE, likewise ow.
    let hi = i32(ih) + PT;
    let wi = i32(iw) + PL;
    let ohFirst = u32((max(hi - i32(SIZE) + 1, 0) + i32(S) - 1) / i32(S));
    let owFirst = u32((max(wi - i32(SIZE) + 1, 0) + i32(S) - 1) / i32(S));
    for (var oh = ohFirst; oh < HO && i32(oh * S) <= hi; oh++) {
      for (var ow = owFirst; ow < WO && i32(ow * S) <= wi; ow++) {
        let o = ((b * HO + oh) * WO + ow) * C + c;
        if (argmax[o] == idx) { total += dy[o]; }
      }
    }
    dx[idx] ${assign(options.accumulate)} total;`,
  });
}

/** y[b, c] = mean over pixels of x[b, ·, ·, c]. */
export function globalAvgPoolForward(options: {
  label: string;
  batch: number;
  pixels: number;
  channels: number;
  x: BufferRef;
  y: BufferRef;
}): Dispatch {
  return elementwise({
    label: options.label,
    count: options.batch * options.channels,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'y', ref: options.y },
    ],
    constants: { C: cu(options.channels), P: cu(options.pixels) },
    body: `
    let c = idx % C; let b = idx / C;
    var total = 0.0f;
    for (var p = 0u; p < P; p++) { total += x[(b * P + p) * C + c]; }
    y[idx] = total / f32(P);`,
  });
}

/** dx[b, p, c] (+)= dy[b, c] / pixels. */
export function globalAvgPoolBackward(options: {
  label: string;
  batch: number;
  pixels: number;
  channels: number;
  dy: BufferRef;
  dx: BufferRef;
  accumulate: boolean;
}): Dispatch {
  return elementwise({
    label: options.label,
    count: options.batch * options.pixels * options.channels,
    bindings: [
      { name: 'dy', ref: options.dy },
      { name: 'dx', ref: options.dx },
    ],
    constants: { C: cu(options.channels), P: cu(options.pixels) },
    body: `
    let c = idx % C; let b = idx / (C * P);
    dx[idx] ${assign(options.accumulate)} dy[b * C + c] / f32(P);`,
  });
}

/** out[n] = Σ_r x[r·N + n]: a dense layer's bias gradient. */
export function columnSums(options: {
  label: string;
  rows: number;
  columns: number;
  x: BufferRef;
  out: BufferRef;
}): Dispatch {
  return elementwise({
    label: options.label,
    count: options.columns,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'out', ref: options.out },
    ],
    constants: { ROWS: cu(options.rows) },
    body: `
    var total = 0.0f;
    for (var r = 0u; r < ROWS; r++) { total += x[r * COUNT + idx]; }
    out[idx] = total;`,
  });
}

/** probabilities = softmax(logits) per row. */
export function softmaxRows(options: {
  label: string;
  rows: number;
  classes: number;
  logits: BufferRef;
  probabilities: BufferRef;
}): Dispatch {
  return elementwise({
    label: options.label,
    count: options.rows,
    bindings: [
      { name: 'logits', ref: options.logits },
      { name: 'p', ref: options.probabilities },
    ],
    constants: { CLASSES: cu(options.classes) },
    body: `
    let base = idx * CLASSES;
    var top = logits[base];
    for (var c = 1u; c < CLASSES; c++) { top = max(top, logits[base + c]); }
    var total = 0.0f;
    for (var c = 0u; c < CLASSES; c++) { total += exp(logits[base + c] - top); }
    for (var c = 0u; c < CLASSES; c++) { p[base + c] = exp(logits[base + c] - top) / total; }`,
  });
}
