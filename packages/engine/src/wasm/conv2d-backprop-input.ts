import { tf } from '../tf.js';
import { channelsLastConvInfo } from './conv-info.js';
import { copyRowsInto } from './data-movement.js';
import {
  type KernelScope,
  type WasmKernelArgs,
  wasmKernel,
  withKernelScope,
} from './kernel-scope.js';

/**
 * One residue class of input rows (or columns) under the forward stride s. Input row
 * h = s*q + t - pad receives dy rows q - m through filter taps t + s*m, so the rows of
 * one class are a stride-1 correlation of dy with the taps t, t+s, t+2s, ... reversed.
 */
interface Phase {
  /** First filter tap of the class. */
  tap: number;
  /** Taps in the class: ceil((k - tap) / s); 0 when the class receives nothing. */
  taps: number;
  /** First input row of the class, and how many rows it has. */
  first: number;
  count: number;
  /** Zero padding of dy before and after, for the stride-1 correlation. */
  padBefore: number;
  padAfter: number;
  /** Rows of the correlation's output to skip before the class's first row. */
  skip: number;
}

function phasesOf(
  stride: number,
  kernel: number,
  inSize: number,
  outSize: number,
  pad: number,
): Phase[] {
  const phases: Phase[] = [];
  for (let tap = 0; tap < stride; tap++) {
    const first = (((tap - pad) % stride) + stride) % stride;
    const count = first < inSize ? Math.ceil((inSize - first) / stride) : 0;
    const taps = tap < kernel ? Math.ceil((kernel - tap) / stride) : 0;
    // q0, the dy row that lines up with the class's first input row.
    const q0 = (first + pad - tap) / stride;
    const before = taps - 1 - q0;
    const after = count - outSize + q0;
    phases.push({
      tap,
      taps,
      first,
      count,
      padBefore: Math.max(before, 0),
      padAfter: Math.max(after, 0),
      skip: Math.max(-before, 0),
    });
  }
  return phases;
}

/**
 * The input gradient as XNNPACK convolutions of dy with the flipped, channel-swapped
 * filter: one stride-1 convolution at stride 1, and one per (row, column) residue class
 * at larger strides (sub-filters of taps t, t+s, ...), whose outputs are interleaved into
 * dx. Every multiply-add is a real one, unlike convolving a zero-dilated dy.
 */
function conv2dBackpropInput(args: WasmKernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = channelsLastConvInfo(
    'Conv2DBackpropInput',
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs,
  );
  const rows = phasesOf(
    info.strideHeight,
    info.filterHeight,
    info.inHeight,
    info.outHeight,
    info.padInfo.top,
  );
  const cols = phasesOf(
    info.strideWidth,
    info.filterWidth,
    info.inWidth,
    info.outWidth,
    info.padInfo.left,
  );
  return withKernelScope(args.backend, (scope) => {
    const weights = scope.view(filter).slice();
    // At stride 1 the single class is all of dx, with no rows to skip.
    if (rows.length === 1 && cols.length === 1) {
      return phaseGradient(scope, dy, weights, info, rows[0]!, cols[0]!);
    }
    const dx = scope.allocate(info.inShape);
    // Classes whose taps all fall outside the filter (1x1 at stride 2) receive no gradient.
    const untouched = [...rows, ...cols].some((p) => p.taps === 0 && p.count > 0);
    if (untouched) scope.view(dx).fill(0);
    for (const row of rows) {
      for (const col of cols) {
        if (row.count === 0 || col.count === 0 || row.taps === 0 || col.taps === 0) continue;
        interleave(scope, phaseGradient(scope, dy, weights, info, row, col), dx, info, row, col);
      }
    }
    return dx;
  });
}

/** dx restricted to one (row, column) residue class: a stride-1 XNNPACK convolution. */
function phaseGradient(
  scope: KernelScope,
  dy: tf.TensorInfo,
  weights: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  row: Phase,
  col: Phase,
): tf.TensorInfo {
  const { filterWidth, inChannels, outChannels, strideHeight, strideWidth } = info;
  const sub = new Float32Array(row.taps * col.taps * outChannels * inChannels);
  let o = 0;
  for (let u = 0; u < row.taps; u++) {
    const i = row.tap + strideHeight * (row.taps - 1 - u);
    for (let v = 0; v < col.taps; v++) {
      const j = col.tap + strideWidth * (col.taps - 1 - v);
      const base = (i * filterWidth + j) * inChannels * outChannels;
      for (let k = 0; k < outChannels; k++) {
        for (let c = 0; c < inChannels; c++) sub[o++] = weights[base + c * outChannels + k]!;
      }
    }
  }
  const subFilter = scope.upload([row.taps, col.taps, outChannels, inChannels], sub);
  return scope.run(
    tf.Conv2D,
    { x: dy, filter: subFilter },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [row.padBefore, row.padAfter],
        [col.padBefore, col.padAfter],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
}

/** Writes one residue class's rows and columns into their strided places in dx. */
function interleave(
  scope: KernelScope,
  part: tf.TensorInfo,
  dx: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  row: Phase,
  col: Phase,
): void {
  const [, partHeight, partWidth] = part.shape as [number, number, number, number];
  const { inHeight, inWidth, inChannels: channels, strideHeight, strideWidth } = info;
  for (let n = 0; n < info.batchSize; n++) {
    copyRowsInto(scope.backend, part, dx, {
      batch: row.count,
      rows: col.count,
      length: channels,
      inBatch: partWidth * channels,
      inRow: channels,
      outBatch: strideHeight * inWidth * channels,
      outRow: strideWidth * channels,
      inOffset: ((n * partHeight + row.skip) * partWidth + col.skip) * channels,
      outOffset: ((n * inHeight + row.first) * inWidth + col.first) * channels,
    });
  }
}

export const conv2dBackpropInputConfig = wasmKernel(tf.Conv2DBackpropInput, conv2dBackpropInput);
