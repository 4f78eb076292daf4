import { type BatchNormKernels, batchNormKernels, sumsRowsByMatMul, tf } from '@prunefuse/engine';

/**
 * A scalar tensor for a number, kept across steps by its owner. A number passed to a tfjs
 * op becomes a new tensor every call, and on webgpu every such tensor is a buffer
 * allocation and an upload: ten per layer and step here, the largest host cost of a
 * training step on an H200 (createBuffer, 15% of the host profile).
 */
export type Constant = (value: number) => tf.Scalar;

/**
 * The moving statistics a training step moves towards the batch's: m ← keep·m + (1 − keep)·b,
 * the variance taking the unbiased batch variance, as PyTorch does.
 */
export interface MovingStatistics {
  mean: tf.Variable;
  variance: tf.Variable;
  keep: number;
}

/**
 * Batch normalisation over a batch's own statistics with its analytic gradient
 * (Ioffe & Szegedy): dx = γ·s·(dy − mean(dy) − x̂·mean(dy·x̂)), s = 1/√(σ²+ε), and the
 * update of the moving statistics. The update is a variable assignment, which the gradient
 * tape does not record, so this runs inside an optimiser's loss closure without disturbing
 * the gradients.
 *
 * Where the backend has fused kernels (webgpu) that is nine launches per layer and step,
 * with `relu` applied inside them; elsewhere it is composed of tfjs ops, about thirty
 * (tfjs's own differentiation of tf.moments + tf.batchNorm takes about sixty), and
 * `relu` is tf.relu after it.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  moving: MovingStatistics,
  constant: Constant,
  relu = false,
): tf.Tensor {
  const kernels = batchNormKernels();
  if (kernels) return fusedBatchNorm(kernels, x, gamma, beta, epsilon, moving, relu);
  const y = composedBatchNorm(x, gamma, beta, epsilon, moving, constant);
  return relu ? tf.relu(y) : y;
}

function fusedBatchNorm(
  kernels: BatchNormKernels,
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  moving: MovingStatistics,
  relu: boolean,
): tf.Tensor {
  const rows = x.size / x.shape[x.rank - 1]!;
  const normalise = tf.customGrad((...args: unknown[]) => {
    const [input, scale, shift, save] = args as [
      tf.Tensor,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.GradSaveFunc,
    ];
    const moments = kernels.moments(input, epsilon);
    const { mean, variance, keep } = moving;
    mean.assign(kernels.movingAverage(mean as tf.Tensor1D, moments, 'mean', keep, 1));
    const unbiased = rows > 1 ? rows / (rows - 1) : 1;
    variance.assign(
      kernels.movingAverage(variance as tf.Tensor1D, moments, 'variance', keep, unbiased),
    );
    const y = kernels.normalise(input, moments, scale, shift, relu);
    save(relu ? [input, moments, scale, y] : [input, moments, scale]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [saveX, stats, g, reluOutput] = saved as [
          tf.Tensor,
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor?,
        ];
        const parameters = kernels.parameterGradients(dy, saveX, stats, reluOutput);
        const dx = kernels.inputGradient(dy, saveX, stats, g, parameters, reluOutput);
        return [dx, parameters.dGamma, parameters.dBeta];
      },
    };
  });
  return normalise(x, gamma, beta);
}

function composedBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  moving: MovingStatistics,
  constant: Constant,
): tf.Tensor {
  const channels = x.shape[x.rank - 1]!;
  const rows = x.size / channels;
  const normalise = tf.customGrad((...args: unknown[]) => {
    const [input, scaleParam, shift, save] = args as [
      tf.Tensor,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.GradSaveFunc,
    ];
    const matrix = tf.reshape(input, [rows, channels]) as tf.Tensor2D;
    // tf.fill runs on the device; tf.ones builds the row in JavaScript and uploads it.
    const ones = sumsRowsByMatMul() ? (tf.fill([1, rows], 1) as tf.Tensor2D) : null;
    const mean = tf.div(columnSums(matrix, ones), constant(rows));
    const centred = tf.sub(matrix, mean) as tf.Tensor2D;
    const variance = tf.div(columnSums(tf.square(centred), ones), constant(rows));
    const inverseStd = tf.rsqrt(tf.add(variance, constant(epsilon))) as tf.Tensor2D;
    updateMovingStatistics(
      moving,
      tf.reshape(mean, [channels]),
      tf.reshape(variance, [channels]),
      rows,
      constant,
    );
    const y = tf.add(tf.mul(centred, tf.mul(scaleParam, inverseStd)), shift);
    save(ones ? [centred, inverseStd, scaleParam, ones] : [centred, inverseStd, scaleParam]);
    return {
      value: tf.reshape(y, input.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [c, s, g, one] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D?];
        const dyMatrix = tf.reshape(dy, [rows, channels]) as tf.Tensor2D;
        const dBeta = columnSums(dyMatrix, one ?? null);
        const dGamma = tf.mul(columnSums(tf.mul(dyMatrix, c), one ?? null), s);
        const k1 = tf.mul(g, s);
        const k2 = tf.mul(k1, tf.mul(s, tf.div(dGamma, constant(-rows))));
        const k3 = tf.mul(k1, tf.div(dBeta, constant(-rows)));
        const dx = tf.add(tf.add(tf.mul(dyMatrix, k1), tf.mul(c, k2)), k3);
        return [
          tf.reshape(dx, dy.shape),
          tf.reshape(dGamma, [channels]),
          tf.reshape(dBeta, [channels]),
        ];
      },
    };
  });
  return normalise(x, gamma, beta);
}

function updateMovingStatistics(
  moving: MovingStatistics,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  count: number,
  constant: Constant,
): void {
  const unbiased = count > 1 ? tf.mul(variance, constant(count / (count - 1))) : variance;
  const decay = constant(moving.keep);
  const rate = constant(1 - moving.keep);
  moving.mean.assign(tf.add(tf.mul(moving.mean, decay), tf.mul(mean, rate)));
  moving.variance.assign(tf.add(tf.mul(moving.variance, decay), tf.mul(unbiased, rate)));
}

/** Sums over the rows of a [rows, C] matrix as [1, C]: by `ones` (a [1, rows] row of ones) if given. */
function columnSums(matrix: tf.Tensor2D, ones: tf.Tensor2D | null): tf.Tensor2D {
  return ones ? tf.matMul(ones, matrix) : tf.sum(matrix, 0, true);
}
