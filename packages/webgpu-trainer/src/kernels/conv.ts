import {
  type Binding,
  type BufferRef,
  type Constants,
  cf,
  ci,
  cu,
  type Dispatch,
  elementwise,
} from '../wgsl.js';
import { type GemmTile, gemm, splitsOf } from './gemm.js';
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

/**
 * The patch reads of forward and filter gradient split between the two halves of their
 * indices: a pixel's batch offset and top-left corner (ih0, iw0 = o·s − pad), and a tap's
 * offset and channel; x[b, ih0 + ky, iw0 + kx, c], zero outside the image.
 */
const PIXEL_FIELDS = 'bh : u32, ih0 : i32, iw0 : i32';
const TAP_FIELDS = 'ky : i32, kx : i32, c : u32';
const PIXEL_OF = (index: string) => `let ow = ${index} % WO; let t = ${index} / WO;
  let oh = t % HO; let b = t / HO;`;
const TAP_OF = (index: string) => `let c = ${index} % CI; let t = ${index} / CI;
  let kx = t % KW; let ky = t / KW;`;
const READ_PATCH = (pixel: string, tap: string) => `
  let ih = ${pixel}.ih0 + ${tap}.ky;
  let iw = ${pixel}.iw0 + ${tap}.kx;
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return 0.0f; }
  return x[((${pixel}.bh + u32(ih)) * W + u32(iw)) * CI + ${tap}.c];`;
/** READ_PATCH for four consecutive channels (c a multiple of 4, the binding vec4<f32>). */
const READ_PATCH4 = (pixel: string, tap: string) => `
  let ih = ${pixel}.ih0 + ${tap}.ky;
  let iw = ${pixel}.iw0 + ${tap}.kx;
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return vec4<f32>(); }
  return x[(((${pixel}.bh + u32(ih)) * W + u32(iw)) * CI + ${tap}.c) >> 2u];`;
const VEC4 = { type: 'vec4<f32>' } as const;
const pixelStruct = (type: string) =>
  `${PIXEL_OF('m_')}
  return ${type}(b * H, i32(oh * S) - PT, i32(ow * S) - PL);`;
const tapStruct = (type: string) => `${TAP_OF('k_')}
  return ${type}(i32(ky), i32(kx), c);`;

/**
 * What the store applies to conv(x, w) (+ bias) before writing it, in this order (an
 * inference plan's folded layers, graph.ts ConvEpilogue): batch norm with moving
 * statistics, the same expression as batchNormInference; + residual; ReLU.
 */
export interface ConvEpilogueBuffers {
  batchnorm: { gammaBeta: BufferRef; moving: BufferRef; epsilon: number } | null;
  residual: BufferRef | null;
  relu: boolean;
}

function epilogueStore(epilogue: ConvEpilogueBuffers | undefined, bias: boolean): string {
  const lines = [`var value = v${bias ? ' + bias[n]' : ''};`];
  if (epilogue?.batchnorm) {
    lines.push(
      'value = (value - moving[n]) * (gb[n] * inverseSqrt(moving[CO + n] + EPSILON)) + gb[CO + n];',
    );
  }
  if (epilogue?.residual) lines.push('value += residual[m * CO + n];');
  lines.push(`y[m * CO + n] = ${epilogue?.relu ? 'max(value, 0.0f)' : 'value'};`);
  return lines.join('\n  ');
}

/** y = conv(x, w) (+ bias), then the epilogue: M = output pixels, N = output channels, K = kh·kw·in. */
export function convForward(
  options: {
    label: string;
    geometry: ConvGeometry;
    x: BufferRef;
    kernel: BufferRef;
    bias: BufferRef | null;
    y: BufferRef;
    epilogue?: ConvEpilogueBuffers;
  } & Blocking,
): Dispatch {
  const g = options.geometry;
  const tile = options.tile ?? convTile('forward', g);
  // Four channels per load where the channel counts allow (A runs along input channels
  // within a tap, B along output channels).
  const vectorA = g.inChannels % 4 === 0 && tile.tileK % 4 === 0;
  const vectorB = g.outChannels % 4 === 0;
  const bindings: Binding[] = [
    { name: 'x', ref: options.x, ...(vectorA ? VEC4 : {}) },
    { name: 'w', ref: options.kernel, ...(vectorB ? VEC4 : {}) },
    { name: 'y', ref: options.y },
  ];
  if (options.bias) bindings.push({ name: 'bias', ref: options.bias });
  const { epilogue } = options;
  const batchnorm = epilogue?.batchnorm;
  if (batchnorm) {
    bindings.push(
      { name: 'gb', ref: batchnorm.gammaBeta },
      { name: 'moving', ref: batchnorm.moving },
    );
  }
  if (epilogue?.residual) bindings.push({ name: 'residual', ref: epilogue.residual });
  return gemm({
    label: options.label,
    m: g.batch * g.outHeight * g.outWidth,
    n: g.outChannels,
    k: g.kernel * g.kernel * g.inChannels,
    bindings,
    constants: { ...constants(g), ...(batchnorm ? { EPSILON: cf(batchnorm.epsilon) } : {}) },
    rowA: { fields: PIXEL_FIELDS, body: `let m_ = m; ${pixelStruct('RowA')}` },
    kInfo: { fields: TAP_FIELDS, body: `let k_ = k; ${tapStruct('KInfo')}` },
    loadA: READ_PATCH('row', 'ki'),
    ...(vectorA ? { loadA4: READ_PATCH4('row', 'ki') } : {}),
    loadB: 'return w[k * CO + n];',
    ...(vectorB ? { loadB4: 'return w[(k * CO + n) >> 2u];' } : {}),
    store: epilogueStore(epilogue, options.bias !== null),
    aContiguous: 'k',
    bContiguous: 'n',
    tile,
  });
}

/**
 * dx = Σ dy·w over the output pixels each input pixel reaches: per phase of the stride,
 * M = the input pixels (b, s·i + ph, s·j + pw), N = input channels, K = the taps that reach
 * that phase x out channels. A stride-s convolution reaches input row s·i + ph only from
 * taps ky ≡ ph + pad (mod s), from output row i + (ph + pad − ky0)/s − t for the t-th of
 * them: one dispatch per phase (s² of them, one pipeline), none reading the zeros a
 * dilated gradient would hold, and no division by the stride. With `accumulate`, dx +=
 * (the input also feeds other layers).
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
): Dispatch[] {
  const g = options.geometry;
  const s = g.stride;
  const tile = options.tile ?? convTile('input-grad', g);
  // A runs along output channels within a tap: four per load where they allow.
  const vectorA = g.outChannels % 4 === 0 && tile.tileK % 4 === 0;
  const dispatches: Dispatch[] = [];
  for (let ph = 0; ph < Math.min(s, g.height); ph++) {
    for (let pw = 0; pw < Math.min(s, g.width); pw++) {
      const ky0 = (ph + g.padTop) % s;
      const kx0 = (pw + g.padLeft) % s;
      const rows = Math.ceil((g.height - ph) / s);
      const columns = Math.ceil((g.width - pw) / s);
      const tapRows = Math.max(0, Math.ceil((g.kernel - ky0) / s));
      const tapColumns = Math.max(0, Math.ceil((g.kernel - kx0) / s));
      // The output row of input row s·i + ph through its first tap: i + DH.
      const phase: Constants = {
        PH: cu(ph),
        PW: cu(pw),
        HP: cu(rows),
        WP: cu(columns),
        KY0: cu(ky0),
        KX0: cu(kx0),
        TW: cu(Math.max(tapColumns, 1)),
        DH: ci((ph + g.padTop - ky0) / s),
        DW: ci((pw + g.padLeft - kx0) / s),
      };
      const pixel = `let j = m % WP; let t = m / WP; let i = t % HP; let b = t / HP;`;
      const dxIndex = '((b * H + S * i + PH) * W + S * j + PW) * CI + n';
      dispatches.push(
        gemm({
          label: s === 1 ? options.label : `${options.label}:phase${ph}${pw}`,
          m: g.batch * rows * columns,
          n: g.inChannels,
          k: tapRows * tapColumns * g.outChannels,
          bindings: [
            { name: 'dy', ref: options.dy, ...(vectorA ? VEC4 : {}) },
            { name: 'w', ref: options.kernel },
            { name: 'dx', ref: options.dx },
          ],
          constants: { ...constants(g), ...phase },
          rowA: {
            fields: 'bo : u32, oh0 : i32, ow0 : i32',
            body: `${pixel}
  return RowA(b * HO, i32(i) + DH, i32(j) + DW);`,
          },
          kInfo: {
            fields: 'ty : i32, tx : i32, co : u32, tap : u32',
            body: `let co = k % CO; let t = k / CO; let tx = t % TW; let ty = t / TW;
  return KInfo(i32(ty), i32(tx), co, (KY0 + S * ty) * KW + KX0 + S * tx);`,
          },
          loadA: `
  let oh = row.oh0 - ki.ty;
  let ow = row.ow0 - ki.tx;
  if (oh < 0 || ow < 0 || oh >= i32(HO) || ow >= i32(WO)) { return 0.0f; }
  return dy[((row.bo + u32(oh)) * WO + u32(ow)) * CO + ki.co];`,
          ...(vectorA
            ? {
                loadA4: `
  let oh = row.oh0 - ki.ty;
  let ow = row.ow0 - ki.tx;
  if (oh < 0 || ow < 0 || oh >= i32(HO) || ow >= i32(WO)) { return vec4<f32>(); }
  return dy[(((row.bo + u32(oh)) * WO + u32(ow)) * CO + ki.co) >> 2u];`,
              }
            : {}),
          loadB: 'return w[(ki.tap * CI + n) * CO + ki.co];',
          store: `${pixel}
  dx[${dxIndex}] ${options.accumulate ? '+=' : '='} v;`,
          aContiguous: 'k',
          bContiguous: 'k',
          tile,
        }),
      );
    }
  }
  return dispatches;
}

/** The filter gradient's product: M = kh·kw·in, N = out, K = batch·output pixels. */
export function filterGradProduct(g: ConvGeometry): { m: number; n: number; k: number } {
  return {
    m: g.kernel * g.kernel * g.inChannels,
    n: g.outChannels,
    k: g.batch * g.outHeight * g.outWidth,
  };
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
  const { m, n, k } = filterGradProduct(g);
  const tile = options.tile ?? convTile('filter-grad', g);
  const splits = splitsOf(m, n, k, tile);
  // A runs along input channels within a tap, B along output channels.
  const vectorA = g.inChannels % 4 === 0 && tile.tileM % 4 === 0;
  const vectorB = g.outChannels % 4 === 0;
  const target = splits > 1 ? options.scratch(splits * m * n) : options.dw;
  const product = gemm({
    label: options.label,
    m,
    n,
    k,
    splits,
    bindings: [
      { name: 'x', ref: options.x, ...(vectorA ? VEC4 : {}) },
      { name: 'dy', ref: options.dy, ...(vectorB ? VEC4 : {}) },
      { name: 'out', ref: target },
    ],
    constants: constants(g),
    rowA: { fields: TAP_FIELDS, body: `let k_ = m; ${tapStruct('RowA')}` },
    kInfo: { fields: PIXEL_FIELDS, body: `let m_ = k; ${pixelStruct('KInfo')}` },
    loadA: READ_PATCH('ki', 'row'),
    ...(vectorA ? { loadA4: READ_PATCH4('ki', 'row') } : {}),
    loadB: 'return dy[k * CO + n];',
    ...(vectorB ? { loadB4: 'return dy[(k * CO + n) >> 2u];' } : {}),
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
