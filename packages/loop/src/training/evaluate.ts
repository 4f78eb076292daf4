import { tf } from '@prunefuse/engine';
import type { LabelledBatch, Network } from '@prunefuse/models';
import type { EvaluationResult } from './train.js';

/**
 * Top-1 accuracy and mean cross-entropy of `network` in inference mode over every
 * example of `batches`. The sums stay on the device and are read back once at the end;
 * each batch is disposed after use.
 */
export async function evaluateNetwork(
  network: Network,
  batches: Iterable<LabelledBatch>,
): Promise<EvaluationResult> {
  let sums: tf.Tensor1D = tf.zeros([2]);
  let examples = 0;
  try {
    for (const batch of batches) {
      try {
        const previous = sums;
        sums = tf.tidy(() => {
          const { logits } = network.apply(batch.x, { training: false });
          const loss = tf.losses.softmaxCrossEntropy(
            tf.oneHot(batch.y, network.spec.classes),
            logits,
            undefined,
            undefined,
            tf.Reduction.SUM,
          );
          const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'float32'));
          return tf.add(previous, tf.stack([loss, correct])) as tf.Tensor1D;
        });
        previous.dispose();
        examples += batch.y.shape[0];
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
    }
    if (examples === 0) throw new Error('evaluateNetwork: the batches held no examples');
    const [lossSum, correct] = (await sums.data()) as Float32Array;
    return { accuracy: correct! / examples, loss: lossSum! / examples };
  } finally {
    sums.dispose();
  }
}
