import { tf } from './tf.js';

/**
 * Whether the active backend sums a [rows, C] matrix over its rows faster as a matrix
 * product with a row of ones than with tf.sum. tfjs-webgpu reduces over a leading axis by
 * transposing the whole matrix first (two launches and a copy of the activations; on an
 * H200 the product is one launch); the other backends reduce in place, ours on wasm at
 * memory speed, where the product is slower (ResNet-20 training on wasm 72 -> 60 img/s).
 */
export function sumsRowsByMatMul(): boolean {
  return tf.getBackend() === 'webgpu';
}
