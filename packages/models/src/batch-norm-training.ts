import { sumsRowsByMatMul, tf } from '@prunefuse/engine';

/** Receives the batch's per-channel mean and biased variance, shape [channels]. */
export type StatisticsSink = (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

/**
 * A scalar tensor for a number, kept across steps by its owner. A number passed to a tfjs
 * op becomes a new tensor every call, and on webgpu every such tensor is a buffer
 * allocation and an upload: ten per layer and step here, the largest host cost of a
 * training step on an H200 (createBuffer, 15% of the host profile).
 */
export type Constant = (value: number) => tf.Scalar;

/**
 * Batch normalisation over a batch's own statistics with its analytic gradient
 * (Ioffe & Szegedy): dx = γ·s·(dy − mean(dy) − x̂·mean(dy·x̂)), s = 1/√(σ²+ε).
 * tfjs differentiates tf.moments + tf.batchNorm op by op, which costs about sixty
 * kernel launches per layer and step; this costs about thirty. On webgpu the channel sums
 * are matrix products with a row of ones (see sumsRowsByMatMul). `onStatistics` sees the batch
 * statistics during the forward pass (for the moving averages); the tape never records
 * them, so they carry no gradient of their own.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  constant: Constant,
  onStatistics: StatisticsSink,
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
    onStatistics(tf.reshape(mean, [channels]), tf.reshape(variance, [channels]));
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

/** Sums over the rows of a [rows, C] matrix as [1, C]: by `ones` (a [1, rows] row of ones) if given. */
function columnSums(matrix: tf.Tensor2D, ones: tf.Tensor2D | null): tf.Tensor2D {
  return ones ? tf.matMul(ones, matrix) : tf.sum(matrix, 0, true);
}
