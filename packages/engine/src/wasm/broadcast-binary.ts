import { tf } from '../tf.js';
import { channelAffine, channelValues } from './channel-affine.js';
import { type WasmKernelArgs, wasmKernel, withKernelScope } from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

type ChannelOp = typeof tf.Multiply | typeof tf.Add | typeof tf.Sub | typeof tf.RealDiv;

/**
 * A binary kernel whose cases "activations op per-channel vector" (x * gamma, x - mean,
 * dy / count, ...) run as one channel-wise multiply-add; every other case goes to the
 * stock kernel.
 */
function broadcastOverChannels(kernelName: ChannelOp) {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const aSize = tf.util.sizeFromShape(a.shape);
    const bSize = tf.util.sizeFromShape(b.shape);
    const vectorFirst = aSize < bSize;
    const big = vectorFirst ? b : a;
    const small = vectorFirst ? a : b;
    const channels = big.shape[big.shape.length - 1] ?? 1;
    const applies =
      big.dtype === 'float32' &&
      channels > 1 &&
      small.shape.length <= big.shape.length &&
      tf.util.sizeFromShape(big.shape) > channels &&
      !(kernelName === tf.RealDiv && vectorFirst);
    if (!applies) return runStockKernel(kernelName, args);
    return withKernelScope(args.backend, (scope) => {
      const v = channelValues(scope, small, channels);
      if (!v) return runStockKernel(kernelName, args);
      switch (kernelName) {
        case tf.Multiply:
          return channelAffine(scope, big, v, null);
        case tf.Add:
          return channelAffine(scope, big, ones(channels), v);
        case tf.Sub:
          return vectorFirst
            ? channelAffine(scope, big, ones(channels).fill(-1), v)
            : channelAffine(
                scope,
                big,
                ones(channels),
                v.map((value) => -value),
              );
        case tf.RealDiv:
          return channelAffine(
            scope,
            big,
            v.map((value) => 1 / value),
            null,
          );
      }
    });
  };
}

function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

export const multiplyConfig = wasmKernel(tf.Multiply, broadcastOverChannels(tf.Multiply));
export const addConfig = wasmKernel(tf.Add, broadcastOverChannels(tf.Add));
export const subConfig = wasmKernel(tf.Sub, broadcastOverChannels(tf.Sub));
export const realDivConfig = wasmKernel(tf.RealDiv, broadcastOverChannels(tf.RealDiv));
