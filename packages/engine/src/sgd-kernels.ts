import { tf } from './tf.js';

/** Names of the fused SGD kernels (registered for webgpu). */
export const SGD_KERNEL_NAMES = {
  direction: 'PrunefuseSgdDirection',
  descend: 'PrunefuseSgdDescend',
} as const;

/**
 * One SGD-momentum update of a variable in two launches instead of five: per variable
 * and step these launches, not the arithmetic, are what a GPU waits on. Any shape; new
 * tensors out.
 */
export interface SgdKernels {
  /** g + weightDecay·w, plus momentum·v when there is a velocity v. */
  direction(
    g: tf.Tensor,
    w: tf.Tensor,
    v: tf.Tensor | null,
    momentum: number,
    weightDecay: number,
  ): tf.Tensor;
  /** w − rate·d. */
  descend(w: tf.Tensor, d: tf.Tensor, rate: number): tf.Tensor;
}

const flat = (t: tf.Tensor) => tf.reshape(t, [t.size]);

const KERNELS: SgdKernels = {
  direction: (g, w, v, momentum, weightDecay) =>
    tf.tidy(() =>
      tf.reshape(
        tf
          .engine()
          .runKernel(
            SGD_KERNEL_NAMES.direction,
            v ? { g: flat(g), w: flat(w), v: flat(v) } : { g: flat(g), w: flat(w) },
            { momentum, weightDecay },
          ) as tf.Tensor,
        w.shape,
      ),
    ),
  descend: (w, d, rate) =>
    tf.tidy(() =>
      tf.reshape(
        tf.engine().runKernel(
          SGD_KERNEL_NAMES.descend,
          { w: flat(w), d: flat(d) },
          {
            rate,
          },
        ) as tf.Tensor,
        w.shape,
      ),
    ),
};

/** The fused kernels where the active backend has them (webgpu, unless PRUNEFUSE_WEBGPU_KERNELS=stock). */
export function sgdKernels(): SgdKernels | null {
  return tf.getKernel(SGD_KERNEL_NAMES.direction, tf.getBackend()) ? KERNELS : null;
}
