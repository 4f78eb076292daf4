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
  direction<T extends tf.Tensor>(g: T, w: T, v: T | null, momentum: number, weightDecay: number): T;
  /** w − rate·d. */
  descend<T extends tf.Tensor>(w: T, d: T, rate: number): T;
}

const run = <T extends tf.Tensor>(
  name: string,
  inputs: Record<string, T>,
  attrs: tf.NamedAttrMap,
): T => {
  const shape = Object.values(inputs)[0]!.shape;
  // The programs run one thread per element of an output of rank >= 1.
  if (shape.length > 0) return tf.engine().runKernel(name, inputs, attrs) as T;
  return tf.tidy(() => {
    const flat = Object.fromEntries(
      Object.entries(inputs).map(([k, t]) => [k, tf.reshape(t, [1])]),
    );
    return tf.reshape(tf.engine().runKernel(name, flat, attrs) as tf.Tensor, []) as T;
  });
};

const KERNELS: SgdKernels = {
  direction: (g, w, v, momentum, weightDecay) =>
    run(SGD_KERNEL_NAMES.direction, v ? { g, w, v } : { g, w }, { momentum, weightDecay }),
  descend: (w, d, rate) => run(SGD_KERNEL_NAMES.descend, { w, d }, { rate }),
};

/** The fused kernels where the active backend has them (webgpu, unless PRUNEFUSE_WEBGPU_KERNELS=stock). */
export function sgdKernels(): SgdKernels | null {
  return tf.getKernel(SGD_KERNEL_NAMES.direction, tf.getBackend()) ? KERNELS : null;
}
