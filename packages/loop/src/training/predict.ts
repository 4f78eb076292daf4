import { tf } from '@prunefuse/engine';
import { activationShapes, type Network } from '@prunefuse/models';

export type PredictionKind = 'probabilities' | 'features' | 'both';

export interface Prediction {
  rows: number;
  /** Row-major [rows, classes] softmax probabilities; null unless asked for. */
  probabilities: Float32Array | null;
  /** Row-major [rows, featureDim] outputs of the spec's features layer; null unless asked for. */
  features: Float32Array | null;
  featureDim: number;
}

/**
 * Runs `network` in inference mode over `batches` (e.g. the unlabelled pool in order) and
 * copies what is asked for into arrays allocated once for `rows` examples: only one
 * batch's activations are ever on the device. Each batch is disposed after use.
 */
export async function predict(
  network: Network,
  batches: Iterable<{ x: tf.Tensor4D; y?: tf.Tensor1D }>,
  what: PredictionKind,
  rows: number,
): Promise<Prediction> {
  if (!Number.isInteger(rows) || rows < 0)
    throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  const { spec } = network;
  const featureShape = activationShapes(spec).get(spec.features)!;
  if (featureShape.length !== 1) {
    throw new Error(
      `${spec.arch}: features layer '${spec.features}' gives [${featureShape}], not a vector`,
    );
  }
  const featureDim = featureShape[0]!;
  const probabilities = what === 'features' ? null : new Float32Array(rows * spec.classes);
  const features = what === 'probabilities' ? null : new Float32Array(rows * featureDim);
  let filled = 0;
  for (const batch of batches) {
    try {
      const n = batch.x.shape[0];
      if (filled + n > rows) {
        throw new RangeError(`predict: the batches hold more than the ${rows} rows announced`);
      }
      const outputs = tf.tidy(() => {
        const { logits, features: embedded } = network.apply(batch.x, { training: false });
        const wanted: { soft?: tf.Tensor2D; embedded?: tf.Tensor2D } = {};
        if (probabilities) wanted.soft = tf.softmax(logits);
        if (features) wanted.embedded = embedded;
        return wanted;
      });
      try {
        if (outputs.soft)
          probabilities!.set((await outputs.soft.data()) as Float32Array, filled * spec.classes);
        if (outputs.embedded)
          features!.set((await outputs.embedded.data()) as Float32Array, filled * featureDim);
      } finally {
        tf.dispose(outputs);
      }
      filled += n;
    } finally {
      tf.dispose(batch.y ? [batch.x, batch.y] : [batch.x]);
    }
  }
  if (filled !== rows)
    throw new RangeError(`predict: the batches held ${filled} rows, not the ${rows} announced`);
  return { rows, probabilities, features, featureDim };
}
