import { tf } from '../tf.js';
import { type WasmKernelArgs, wasmKernel, withKernelScope } from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * Sum and Mean over a contiguous block of axes that leaves the last axis alone (batch
 * norm statistics over [0, 1, 2], global average pooling over [1, 2]), as XNNPACK average
 * pooling of x viewed as [outer, reduced, 1, inner]. The stock kernels transpose the
 * reduced axes innermost first and then reduce, which costs about 40 times as much.
 */
function reduceLeading(kernelName: typeof tf.Sum | typeof tf.Mean) {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const contiguous =
      first !== undefined && last !== undefined && last - first + 1 === axes.length;
    if (x.dtype !== 'float32' || !contiguous || last === x.shape.length - 1) {
      return runStockKernel(kernelName, args);
    }
    const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
    const reduced = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
    const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    if (reduced === 0 || outer * inner === 0) return runStockKernel(kernelName, args);
    return withKernelScope(args.backend, (scope) => {
      const pooled = scope.run(
        tf.AvgPool,
        { x: { ...x, shape: [outer, reduced, 1, inner] } },
        { filterSize: [reduced, 1], strides: [1, 1], pad: 'valid' },
      );
      if (kernelName === tf.Sum) {
        const values = scope.view(pooled);
        for (let i = 0; i < values.length; i++) values[i]! *= reduced;
      }
      pooled.shape = outShape;
      return pooled;
    });
  };
}

export const sumConfig = wasmKernel(tf.Sum, reduceLeading(tf.Sum));
export const meanConfig = wasmKernel(tf.Mean, reduceLeading(tf.Mean));
