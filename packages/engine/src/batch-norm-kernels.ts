import { tf } from './tf.js';

/** Names of the fused training batch-norm kernels (registered for webgpu). */
export const BATCH_NORM_KERNEL_NAMES = {
  moments: 'PrunefuseBatchNormMoments',
  normalise: 'PrunefuseBatchNormNormalise',
  parameterGradients: 'PrunefuseBatchNormParameterGradients',
  inputGradient: 'PrunefuseBatchNormInputGradient',
  movingAverage: 'PrunefuseMovingAverage',
} as const;

/**
 * Training-mode batch normalisation as a handful of fused kernels over activations of any
 * rank, channels last (viewed as [rows, C]): five launches forward (moments in two
 * passes, normalise, two moving averages) and four backward, where the same computation
 * composed of tfjs ops takes about thirty; a ReLU after it costs no launch of its own.
 * Tensors in, new tensors out. The kernels have no registered gradients: callers
 * differentiate through them with tf.customGrad, as batchNormTraining (models) does.
 */
export interface BatchNormKernels {
  /** [3, C]: each channel's mean, biased variance and 1/√(variance + ε). */
  moments(x: tf.Tensor, epsilon: number): tf.Tensor2D;
  /** γ·(x − mean)/√(variance + ε) + β, and its ReLU when `relu`. */
  normalise<T extends tf.Tensor>(
    x: T,
    moments: tf.Tensor2D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    relu: boolean,
  ): T;
  /**
   * dγ = Σ dy·x̂ and dβ = Σ dy, per channel. With `reluOutput` (the normalise output of a
   * fused ReLU) dy counts only where that output is positive, here and in inputGradient.
   */
  parameterGradients(
    dy: tf.Tensor,
    x: tf.Tensor,
    moments: tf.Tensor2D,
    reluOutput?: tf.Tensor,
  ): { dGamma: tf.Tensor1D; dBeta: tf.Tensor1D };
  /** dx = γ·s·(dy − dβ/n − x̂·dγ/n), n = rows, s = 1/√(variance + ε). */
  inputGradient<T extends tf.Tensor>(
    dy: T,
    x: T,
    moments: tf.Tensor2D,
    gamma: tf.Tensor1D,
    gradients: { dGamma: tf.Tensor1D; dBeta: tf.Tensor1D },
    reluOutput?: T,
  ): T;
  /** moving·keep + statistic·scale·(1 − keep), the statistic a row of `moments`. */
  movingAverage(
    moving: tf.Tensor1D,
    moments: tf.Tensor2D,
    statistic: 'mean' | 'variance',
    keep: number,
    scale: number,
  ): tf.Tensor1D;
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
  tf.engine().runKernel(name, inputs, attrs);

const KERNELS: BatchNormKernels = {
  moments: (x, epsilon) => run(BATCH_NORM_KERNEL_NAMES.moments, { x }, { epsilon }) as tf.Tensor2D,
  normalise: <T extends tf.Tensor>(
    x: T,
    moments: tf.Tensor2D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    relu: boolean,
  ) => run(BATCH_NORM_KERNEL_NAMES.normalise, { x, moments, gamma, beta }, { relu }) as T,
  parameterGradients(dy, x, moments, reluOutput) {
    const inputs: tf.NamedTensorMap = { dy, x, moments };
    if (reluOutput) inputs.y = reluOutput;
    const [dGamma, dBeta] = run(
      BATCH_NORM_KERNEL_NAMES.parameterGradients,
      inputs,
    ) as tf.Tensor1D[];
    return { dGamma: dGamma!, dBeta: dBeta! };
  },
  inputGradient<T extends tf.Tensor>(
    dy: T,
    x: T,
    moments: tf.Tensor2D,
    gamma: tf.Tensor1D,
    { dGamma, dBeta }: { dGamma: tf.Tensor1D; dBeta: tf.Tensor1D },
    reluOutput?: T,
  ) {
    const inputs: tf.NamedTensorMap = { dy, x, moments, gamma, dGamma, dBeta };
    if (reluOutput) inputs.y = reluOutput;
    return run(BATCH_NORM_KERNEL_NAMES.inputGradient, inputs) as T;
  },
  movingAverage: (moving, moments, statistic, keep, scale) =>
    run(
      BATCH_NORM_KERNEL_NAMES.movingAverage,
      { moving, moments },
      { row: statistic === 'mean' ? 0 : 1, keep, scale },
    ) as tf.Tensor1D,
};

/** The fused kernels where the active backend has them (webgpu, unless PRUNEFUSE_WEBGPU_KERNELS=stock). */
export function batchNormKernels(): BatchNormKernels | null {
  return tf.getKernel(BATCH_NORM_KERNEL_NAMES.moments, tf.getBackend()) ? KERNELS : null;
}
