import { tf } from '../tf.js';
import { channelsLastConvInfo } from './conv-info.js';
import { copyRowsInto, transposeInto } from './data-movement.js';
import {
  type KernelScope,
  type WasmKernelArgs,
  wasmKernel,
  withKernelScope,
} from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * The filter gradient
 *
 *   dw[i, j, c, k] = sum over n, oh, ow of x[n, oh*s + i - pt, ow*s + j - pl, c] * dy[n, oh, ow, k]
 *
 * computed by XNNPACK. A 1x1 filter is one matrix product, x (subsampled by the stride)
 * transposed to [C, pixels] times dy as [pixels, K]. A larger filter is one convolution
 * over the batch: its "images" are the C channels of x (x as [C, H, W, N], the batch as
 * channels) and its "filter" is dy as [Ho, Wo, N, K], dilated by the forward stride; its
 * [C, kh, kw, K] output is dw with the first two axes swapped.
 */
function conv2dBackpropFilter(args: WasmKernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = channelsLastConvInfo(
    'Conv2DBackpropFilter',
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs,
  );
  const { top, left, bottom, right } = info.padInfo;
  return withKernelScope(args.backend, (scope) =>
    info.filterHeight === 1 && info.filterWidth === 1 && top + left + bottom + right === 0
      ? pointwiseFilterGradient(scope, x, dy, info)
      : convolutionOverBatch(scope, x, dy, info),
  );
}

function pointwiseFilterGradient(
  scope: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k } = info;
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const pixels = n * ho * wo;
  const columns = scope.allocate([c, pixels]);
  for (let image = 0; image < n; image++) {
    transposeInto(scope.backend, x, columns, {
      batch: ho,
      rows: wo,
      cols: c,
      inBatch: sh * w * c,
      inRow: sw * c,
      outBatch: wo,
      outCol: pixels,
      inOffset: image * h * w * c,
      outOffset: image * ho * wo,
    });
  }
  const product = scope.keep(
    runStockKernel(tf.BatchMatMul, {
      inputs: { a: columns, b: { ...dy, shape: [pixels, k] } },
      backend: scope.backend,
      attrs: { transposeA: false, transposeB: false },
    }),
  );
  product.shape = [1, 1, c, k];
  return product;
}

function convolutionOverBatch(
  scope: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: k } = info;
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: kh, filterWidth: kw, padInfo } = info;
  // Rows (columns) of x past the last one any output reads are left out rather than
  // given negative padding, which XNNPACK does not accept.
  const padBottom = (ho - 1) * sh + kh - h - padInfo.top;
  const padRight = (wo - 1) * sw + kw - w - padInfo.left;
  const hUsed = h + Math.min(padBottom, 0);
  const wUsed = w + Math.min(padRight, 0);

  const images = scope.allocate([c, hUsed, wUsed, n]);
  // Whole image rows at once when no column is left out, else row by row.
  const rowsPerCall = wUsed === w ? hUsed : 1;
  for (let row = 0; row < hUsed; row += rowsPerCall) {
    transposeInto(scope.backend, x, images, {
      batch: rowsPerCall * wUsed,
      rows: n,
      cols: c,
      inBatch: c,
      inRow: h * w * c,
      outBatch: n,
      outCol: hUsed * wUsed * n,
      inOffset: row * w * c,
      outOffset: row * wUsed * n,
    });
  }
  const filter = scope.allocate([ho, wo, n, k]);
  copyRowsInto(scope.backend, dy, filter, {
    batch: n,
    rows: ho * wo,
    length: k,
    inBatch: ho * wo * k,
    inRow: k,
    outBatch: k,
    outRow: n * k,
  });
  const perChannel = scope.run(
    tf.Conv2D,
    { x: images, filter },
    {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: [
        [0, 0],
        [padInfo.top, Math.max(padBottom, 0)],
        [padInfo.left, Math.max(padRight, 0)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  const dw = scope.allocate([kh, kw, c, k]);
  copyRowsInto(scope.backend, perChannel, dw, {
    batch: c,
    rows: kh * kw,
    length: k,
    inBatch: kh * kw * k,
    inRow: k,
    outBatch: k,
    outRow: c * k,
  });
  return dw;
}

export const conv2dBackpropFilterConfig = wasmKernel(tf.Conv2DBackpropFilter, conv2dBackpropFilter);
