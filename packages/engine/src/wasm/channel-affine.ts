import { tf } from '../tf.js';
import type { KernelScope } from './kernel-scope.js';

/**
 * y = x * scale[c] + shift[c] along x's last axis, as an XNNPACK depthwise 1x1
 * convolution of x viewed as [1, rows, 1, C], which XNNPACK runs as one vectorised
 * multiply-add pass. tfjs-backend-wasm's broadcasting binary kernels and its batch-norm
 * kernel compute a broadcast index per element and run 4 to 10 times slower.
 */
export function channelAffine(
  scope: KernelScope,
  x: tf.TensorInfo,
  scale: Float32Array,
  shift: Float32Array | null,
): tf.TensorInfo {
  const channels = scale.length;
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const inputs: tf.NamedTensorInfoMap = {
    x: { ...x, shape: [1, rows, 1, channels] },
    filter: scope.upload([1, 1, channels, 1], scale),
  };
  if (shift) inputs.bias = scope.upload([channels], shift);
  const out = scope.run(tf.FusedDepthwiseConv2D, inputs, {
    strides: [1, 1],
    pad: 'valid',
    dilations: [1, 1],
    dataFormat: 'NHWC',
    activation: 'linear',
  });
  out.shape = [...x.shape];
  return out;
}

/**
 * The values of a per-channel operand of a tensor with `channels` channels: a tensor of
 * that many elements whose other dimensions are all 1 (or a single value, repeated).
 * Null when `operand` is not one.
 */
export function channelValues(
  scope: KernelScope,
  operand: tf.TensorInfo | undefined,
  channels: number,
): Float32Array | null {
  if (operand?.dtype !== 'float32') return null;
  const size = tf.util.sizeFromShape(operand.shape);
  const last = operand.shape[operand.shape.length - 1] ?? 1;
  if (size === 1) return new Float32Array(channels).fill(scope.view(operand)[0]!);
  if (size !== channels || last !== channels) return null;
  return scope.view(operand).slice();
}
