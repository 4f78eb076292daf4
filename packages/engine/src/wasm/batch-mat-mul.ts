import { tf } from '../tf.js';
import { transposeInto } from './data-movement.js';
import {
  type KernelScope,
  type WasmKernelArgs,
  wasmKernel,
  withKernelScope,
} from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * BatchMatMul with transposed operands (every dense layer's backward pass) as a vectorised
 * transpose followed by the stock untransposed product: the stock kernel leaves XNNPACK
 * for a scalar loop when either flag is set and runs 10 to 50 times slower.
 */
function batchMatMul(args: WasmKernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (!transposeA && !transposeB) return runStockKernel(tf.BatchMatMul, args);
  return withKernelScope(args.backend, (scope) =>
    runStockKernel(tf.BatchMatMul, {
      inputs: {
        a: transposeA ? swapLastTwo(scope, a) : a,
        b: transposeB ? swapLastTwo(scope, b) : b,
      },
      backend: args.backend,
      attrs: { transposeA: false, transposeB: false },
    }),
  );
}

function swapLastTwo(scope: KernelScope, x: tf.TensorInfo): tf.TensorInfo {
  const rows = x.shape[x.shape.length - 2]!;
  const cols = x.shape[x.shape.length - 1]!;
  const batch = tf.util.sizeFromShape(x.shape.slice(0, -2));
  const out = scope.allocate([...x.shape.slice(0, -2), cols, rows]);
  transposeInto(scope.backend, x, out, {
    batch,
    rows,
    cols,
    inBatch: rows * cols,
    inRow: cols,
    outBatch: rows * cols,
    outCol: rows,
  });
  return out;
}

export const batchMatMulConfig = wasmKernel(tf.BatchMatMul, batchMatMul);
