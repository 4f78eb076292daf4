import { tf } from '@prunefuse/engine';

/** Mean softmax cross-entropy of [n, classes] logits against [n] int32 labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  checkLabels(logits, labels);
  return tf.tidy(
    () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar,
  );
}

/**
 * Knowledge distillation (Hinton et al. 2015) as PruneFuse fine-tunes the fused network:
 * λ·CE(y, zs) + (1-λ)·T²·KL(softmax(zt/T) || softmax(zs/T)), each term averaged over the
 * batch. T² keeps the soft term's gradients on the scale of the hard term's as T grows.
 * The teacher's logits are data here: no gradient flows into the teacher.
 */
export function distillationLoss(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  lambda: number,
  temperature: number,
): tf.Scalar {
  if (!(lambda >= 0 && lambda <= 1))
    throw new RangeError(`KD lambda must be in [0, 1], got ${lambda}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new RangeError(`KD temperature must be a finite number > 0, got ${temperature}`);
  }
  if (studentLogits.shape.join('x') !== teacherLogits.shape.join('x')) {
    throw new Error(
      `student logits [${studentLogits.shape}] and teacher logits [${teacherLogits.shape}] must have the same shape`,
    );
  }
  checkLabels(studentLogits, labels);
  return tf.tidy(() => {
    const hard = crossEntropy(studentLogits, labels);
    const teacherLog = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const studentLog = tf.logSoftmax(tf.div(studentLogits, temperature));
    // Σ p_t (log p_t - log p_s) per example, then the batch mean.
    const kl = tf.mean(tf.sum(tf.mul(tf.exp(teacherLog), tf.sub(teacherLog, studentLog)), 1));
    return tf.add(
      tf.mul(hard, lambda),
      tf.mul(kl, (1 - lambda) * temperature * temperature),
    ) as tf.Scalar;
  });
}

function checkLabels(logits: tf.Tensor2D, labels: tf.Tensor1D): void {
  if (
    logits.rank !== 2 ||
    labels.rank !== 1 ||
    labels.shape[0] !== logits.shape[0] ||
    labels.dtype !== 'int32'
  ) {
    throw new Error(
      `labels must be int32 [${logits.shape[0]}] to match logits [${logits.shape}], got ${labels.dtype} [${labels.shape}]`,
    );
  }
}
