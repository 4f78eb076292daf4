import { tf } from '../tf.js';
import { channelAffine, channelValues } from './channel-affine.js';
import { type WasmKernelArgs, wasmKernel, withKernelScope } from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * Batch normalisation folded into one channel-wise multiply-add:
 * y = x * a + b with a = scale / sqrt(variance + epsilon), b = offset - mean * a.
 */
function fusedBatchNorm(args: WasmKernelArgs): tf.TensorInfo {
  const { x, mean, variance, offset, scale } = args.inputs as Record<
    string,
    tf.TensorInfo | undefined
  >;
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  const channels = x!.shape[x!.shape.length - 1] ?? 1;
  if (x!.dtype !== 'float32' || channels < 2) return runStockKernel(tf.FusedBatchNorm, args);
  return withKernelScope(args.backend, (scope) => {
    const m = channelValues(scope, mean, channels);
    const v = channelValues(scope, variance, channels);
    const o = offset ? channelValues(scope, offset, channels) : new Float32Array(channels);
    const s = scale ? channelValues(scope, scale, channels) : new Float32Array(channels).fill(1);
    if (!m || !v || !o || !s) return runStockKernel(tf.FusedBatchNorm, args);
    const a = new Float32Array(channels);
    const b = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      a[c] = s[c]! / Math.sqrt(v[c]! + varianceEpsilon);
      b[c] = o[c]! - m[c]! * a[c]!;
    }
    return channelAffine(scope, x!, a, b);
  });
}

export const fusedBatchNormConfig = wasmKernel(tf.FusedBatchNorm, fusedBatchNorm);
