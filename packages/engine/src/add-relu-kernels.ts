import { tf } from './tf.js';

/** Names of the fused residual-ReLU kernels (registered for webgpu). */
export const ADD_RELU_KERNEL_NAMES = {
  forward: 'PrunefuseAddRelu',
  gradient: 'PrunefuseReluGradient',
} as const;

/**
 * relu(a + b), the end of a residual block, in one launch forward and one backward
 * (tfjs: an addition and a ReLU, then a step and a product). Same-shaped tensors of rank
 * >= 1; new tensors out. No registered gradients: callers differentiate with
 * tf.customGrad.
 */
export interface AddReluKernels {
  /** max(a + b, 0). */
  forward<T extends tf.Tensor>(a: T, b: T): T;
  /** dy where the forward output y is positive, 0 elsewhere: the gradient for a and for b. */
  gradient<T extends tf.Tensor>(dy: T, y: T): T;
}

const KERNELS: AddReluKernels = {
  forward: <T extends tf.Tensor>(a: T, b: T) =>
    tf.engine().runKernel(ADD_RELU_KERNEL_NAMES.forward, { a, b }) as T,
  gradient: <T extends tf.Tensor>(dy: T, y: T) =>
    tf.engine().runKernel(ADD_RELU_KERNEL_NAMES.gradient, { dy, y }) as T,
};

/** The fused kernels where the active backend has them (webgpu, unless PRUNEFUSE_WEBGPU_KERNELS=stock). */
export function addReluKernels(): AddReluKernels | null {
  return tf.getKernel(ADD_RELU_KERNEL_NAMES.forward, tf.getBackend()) ? KERNELS : null;
}
