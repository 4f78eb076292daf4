import { type BufferRef, type Constants, ci, cu, type Dispatch, elementwise } from '../wgsl.js';
import { type GemmTile, gemm, splitsFor } from './gemm.js';
import { convTile } from './tiles.js';

/** A convolution's shapes (NHWC activations, [kh, kw, in, out] kernels), square kernels. */
export interface ConvGeometry {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padTop: number;
  padLeft: number;
}

/** The blocking of each pass: the tile table's unless a caller (the tuner, a test) picks one. */
interface Blocking {
  tile?: GemmTile;
}

function constants(g: ConvGeometry): Constants {
  return {
    B: cu(g.batch),
    H: cu(g.height),
    W: cu(g.width),
    CI: cu(g.inChannels),
    HO: cu(g.outHeight),
    WO: cu(g.outWidth),
    CO: cu(g.outChannels),
    KW: cu(g.kernel),
    S: cu(g.stride),
    PT: ci(g.padTop),
    PL: ci(g.padLeft),
  };
}

/** x[b, oh·s − pt + ky, ow·s − pl + kx, ci], zero outside the image. */
const READ_PATCH = `
  let ih = i32(oh * S + ky) - PT;
  let iw = i32(ow * S + kx) - PL;
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return 0.0f; }
  return x[((b * H + u32(ih)) * W + u32(iw)) * CI + ci];`;

/** y = conv(x, w) (+ bias): M = output pixels, N = output channels, K = kh·kw·in. */
export function convForward(
  options: {
    label: string;
    geometry: ConvGeometry;
    x: BufferRef;
    kernel: BufferRef;
    bias: BufferRef | null;
    y: BufferRef;
  } & Blocking,
): Dispatch {
  const g = options.geometry;
  const bindings = [
    { name: 'x', ref: options.x },
    { name: 'w', ref: options.kernel },
    { name: 'y', ref: options.y },
  ];
  if (options.bias) bindings.push({ name: 'bias', ref: options.bias });
  return gemm({
    label: options.label,
    m: g.batch * g.outHeight * g.outWidth,
    n: g.outChannels,
    k: g.kernel * g.kernel * g.inChannels,
    bindings,
    constants: constants(g),
    loadA: `
  let ow = m % WO; let t = m / WO; let oh = t % HO; let b = t / HO;
  let ci = k % CI; let t2 = k / CI; let kx = t2 % KW; let ky = t2 / KW;${READ_PATCH}`,
    loadB: 'return w[k * CO + n];',
    store: `y[m * CO + n] = v${options.bias ? ' + bias[n]' : ''};`,
    aContiguous: 'k',
    bContiguous: 'n',
    tile: options.tile ?? convTile('forward', g),
  });
}

/**
 * dx = Σ dy·w over the output pixels each input pixel reaches: M = input pixels,
 * N = input channels, K = kh·kw·out. A stride-s convolution reaches an input pixel only
 * from taps where (pixel + pad − tap) is a multiple of s; the others read as zero.
 * With `accumulate`, dx += (the input also feeds other layers).
 */
export function convInputGradient(
  options: {
    label: string;
    geometry: ConvGeometry;
    dy: BufferRef;
    kernel: BufferRef;
    dx: BufferRef;
    accumulate: boolean;
  } & Blocking,
): Dispatch {
  const g = options.geometry;
  const strided = g.stride > 1 ? `if (th % i32(S) != 0 || tw % i32(S) != 0) { return 0.0f; }` : '';
  return gemm({
    label: options.label,
    m: g.batch * g.height * g.width,
    n: g.inChannels,
    k: g.kernel * g.kernel * g.outChannels,
    bindings: [
      { name: 'dy', ref: options.dy },
      { name: 'w', ref: options.kernel },
      { name: 'dx', ref: options.dx },
    ],
    constants: constants(g),
    loadA: `
  let iw = m % W; let t = m / W; let ih = t % H; let b = t / H;
  let co = k % CO; let t2 = k / CO; let kx = t2 % KW; let ky = t2 / KW;
  let th = i32(ih) + PT - i32(ky);
  let tw = i32(iw) + PL - i32(kx);
  if (th < 0 || tw < 0) { return 0.0f; }
  ${strided}
  let oh = u32(th) / S; let ow = u32(tw) / S;
  if (oh >= HO || ow >= WO) { return 0.0f; }
  return dy[((b * HO + oh) * WO + ow) * CO + co];`,
    loadB: 'let co = k % CO; let tap = k / CO; return w[(tap * CI + n) * CO + co];',
    store: options.accumulate ? 'dx[m * CI + n] += v;' : 'dx[m * CI + n] = v;',
    aContiguous: 'k',
    bContiguous: 'k',
    tile: options.tile ?? convTile('input-grad', g),
  });
}

/**
 * dw = Σ over batch and output pixels of x-patch ⊗ dy: M = kh·kw·in, N = out,
 * K = batch·output pixels. The reduction is long and the output small, so it is split
 * into slices written to `scratch` and summed by a second kernel; returns both dispatches
 * (one when a single slice suffices). `scratch` gets the size from scratchSize.
 */
export function convFilterGradient(
  options: {
    label: string;
    geometry: ConvGeometry;
    x: BufferRef;
    dy: BufferRef;
    dw: BufferRef;
    scratch: (floats: number) => BufferRef;
  } & Blocking,
): Dispatch[] {
  const g = options.geometry;
  const m = g.kernel * g.kernel * g.inChannels;
  const n = g.outChannels;
  const k = g.batch * g.outHeight * g.outWidth;
  const tile = options.tile ?? convTile('filter-grad', g);
  const splits = splitsFor(m, n, k, tile);
  const target = splits > 1 ? options.scratch(splits * m * n) : options.dw;
  const product = gemm({
    label: options.label,
    m,
    n,
    k,
    splits,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'dy', ref: options.dy },
      { name: 'out', ref: target },
    ],
    constants: constants(g),
    loadA: `
  let ci = m % CI; let t = m / CI; let kx = t % KW; let ky = t / KW;
  let ow = k % WO; let t2 = k / WO; let oh = t2 % HO; let b = t2 / HO;${READ_PATCH}`,
    loadB: 'return dy[k * CO + n];',
    store: splits > 1 ? 'out[(z * M + m) * N + n] = v;' : 'out[m * N + n] = v;',
    aContiguous: 'm',
    bContiguous: 'n',
    tile,
  });
  if (splits === 1) return [product];
  return [product, sumSlices(`${options.label}:sum`, target, options.dw, splits, m * n)];
}

/** out[i] = Σ_z slices[z·count + i]. */
function sumSlices(
  label: string,
  slices: BufferRef,
  out: BufferRef,
  splits: number,
  count: number,
): Dispatch {
  return elementwise({
    label,
    count,
    bindings: [
      { name: 'slices', ref: slices },
      { name: 'out', ref: out },
    ],
    constants: { SPLITS: cu(splits) },
    body: `
    var total = 0.0f;
    for (var z = 0u; z < SPLITS; z++) { total += slices[z * COUNT + idx]; }
    out[idx] = total;`,
  });
}
