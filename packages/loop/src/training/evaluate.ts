import { tf } from '@prunefuse/engine';
import type { LabelledBatch, Network } from '@prunefuse/models';
import { usesCompiledTrainer } from './compiled-engine.js';
import { CompiledInference } from './compiled-inference.js';
import { type CompiledTrainers, withCompiledTrainers } from './compiled-trainers.js';
import type { EvaluationResult } from './train.js';

export interface InferenceOptions {
  /**
   * The run's compiled trainers, reused when the compiled trainer runs inference (the
   * webgpu backend); without them a call compiles its own and destroys them after.
   */
  trainers?: CompiledTrainers;
}

/**
 * Top-1 accuracy and mean cross-entropy of `network` in inference mode over every
 * example of `batches`. On the webgpu backend it runs as the compiled trainer's inference
 * plan (unless PRUNEFUSE_WEBGPU_TRAINER=tfjs), elsewhere with tfjs ops. Each batch is
 * disposed after use.
 */
export async function evaluateNetwork(
  network: Network,
  batches: Iterable<LabelledBatch>,
  options: InferenceOptions = {},
): Promise<EvaluationResult> {
  const { lossSum, correct, examples } = usesCompiledTrainer()
    ? await withCompiledTrainers(options.trainers, (trainers) =>
        compiledSums(network, batches, trainers),
      )
    : await tfjsSums(network, batches);
  if (examples === 0) throw new Error('evaluateNetwork: the batches held no examples');
  return { accuracy: correct / examples, loss: lossSum / examples };
}

interface Sums {
  lossSum: number;
  correct: number;
  examples: number;
}

/** The sums stay on the device and are read back once at the end. */
async function tfjsSums(network: Network, batches: Iterable<LabelledBatch>): Promise<Sums> {
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
    const [lossSum, correct] = (await sums.data()) as Float32Array;
    return { lossSum: lossSum!, correct: correct!, examples };
  } finally {
    sums.dispose();
  }
}

/**
 * Each batch's logits come back from the compiled plan; the cross-entropy (in float64)
 * and the top-1 hits (the first maximal logit, as tfjs's argMax) are summed on the host.
 */
async function compiledSums(
  network: Network,
  batches: Iterable<LabelledBatch>,
  trainers: CompiledTrainers,
): Promise<Sums> {
  const { classes } = network.spec;
  const sums: Sums = { lossSum: 0, correct: 0, examples: 0 };
  let inference: CompiledInference | null = null;
  for (const batch of batches) {
    try {
      const examples = batch.y.shape[0];
      inference ??= await CompiledInference.of(network, examples, trainers);
      const [{ logits }, labels] = await Promise.all([inference.run(batch.x), batch.y.data()]);
      for (let n = 0; n < examples; n++) {
        const row = logits.subarray(n * classes, (n + 1) * classes);
        let best = 0;
        for (let c = 1; c < classes; c++) if (row[c]! > row[best]!) best = c;
        let exponentials = 0;
        for (let c = 0; c < classes; c++) exponentials += Math.exp(row[c]! - row[best]!);
        const label = labels[n]!;
        sums.lossSum += Math.log(exponentials) - (row[label]! - row[best]!);
        if (best === label) sums.correct++;
      }
      sums.examples += examples;
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
  }
  return sums;
}
