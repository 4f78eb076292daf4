import { tf } from '@prunefuse/engine';
import { activationShapes, type Network } from '@prunefuse/models';
import { usesCompiledTrainer } from './compiled-engine.js';
import { CompiledInference } from './compiled-inference.js';
import { type CompiledTrainers, withCompiledTrainers } from './compiled-trainers.js';
import type { InferenceOptions } from './evaluate.js';

export type PredictionKind = 'probabilities' | 'features' | 'both';

export interface Prediction {
  rows: number;
  /** Row-major [rows, classes] softmax probabilities; null unless asked for. */
  probabilities: Float32Array | null;
  /** Row-major [rows, featureDim] outputs of the spec's features layer; null unless asked for. */
  features: Float32Array | null;
  featureDim: number;
}

type ImageBatch = { x: tf.Tensor4D; y?: tf.Tensor1D };

/**
 * Runs `network` in inference mode over `batches` (e.g. the unlabelled pool in order) and
 * copies what is asked for into arrays allocated once for `rows` examples: only one
 * batch's activations are ever on the device. On the webgpu backend it runs as the
 * compiled trainer's inference plan (unless PRUNEFUSE_WEBGPU_TRAINER=tfjs), elsewhere
 * with tfjs ops. Each batch is disposed after use.
 */
export async function predict(
  network: Network,
  batches: Iterable<ImageBatch>,
  what: PredictionKind,
  rows: number,
  options: InferenceOptions = {},
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
  const into = { rows, classes: spec.classes, featureDim, probabilities, features };
  const filled = usesCompiledTrainer()
    ? await withCompiledTrainers(options.trainers, (trainers) =>
        compiledPredictions(network, batches, into, trainers),
      )
    : await tfjsPredictions(network, batches, into);
  if (filled !== rows)
    throw new RangeError(`predict: the batches held ${filled} rows, not the ${rows} announced`);
  return { rows, probabilities, features, featureDim };
}

/** Where predictions go: arrays of `rows` rows, null where not asked for. */
interface Outputs {
  rows: number;
  classes: number;
  featureDim: number;
  probabilities: Float32Array | null;
  features: Float32Array | null;
}

/** Rows of `n` examples from `filled` on still fit in `into`. */
function checkRoom(into: Outputs, filled: number, n: number): void {
  if (filled + n > into.rows) {
    throw new RangeError(`predict: the batches hold more than the ${into.rows} rows announced`);
  }
}

/** Fills `into` with tfjs ops; returns the rows filled. */
async function tfjsPredictions(
  network: Network,
  batches: Iterable<ImageBatch>,
  into: Outputs,
): Promise<number> {
  const { probabilities, features, classes, featureDim } = into;
  let filled = 0;
  for (const batch of batches) {
    try {
      const n = batch.x.shape[0];
      checkRoom(into, filled, n);
      const outputs = tf.tidy(() => {
        const { logits, features: embedded } = network.apply(batch.x, { training: false });
        const wanted: { soft?: tf.Tensor2D; embedded?: tf.Tensor2D } = {};
        if (probabilities) wanted.soft = tf.softmax(logits);
        if (features) wanted.embedded = embedded;
        return wanted;
      });
      try {
        if (outputs.soft)
          probabilities!.set((await outputs.soft.data()) as Float32Array, filled * classes);
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
  return filled;
}

/** Fills `into` from the compiled trainer's inference plan; returns the rows filled. */
async function compiledPredictions(
  network: Network,
  batches: Iterable<ImageBatch>,
  into: Outputs,
  trainers: CompiledTrainers,
): Promise<number> {
  const { probabilities, features, classes, featureDim } = into;
  let inference: CompiledInference | null = null;
  let filled = 0;
  for (const batch of batches) {
    try {
      const n = batch.x.shape[0];
      checkRoom(into, filled, n);
      inference ??= await CompiledInference.of(network, n, trainers);
      const outputs = await inference.run(batch.x);
      probabilities?.set(outputs.probabilities, filled * classes);
      features?.set(outputs.features, filled * featureDim);
      filled += n;
    } finally {
      tf.dispose(batch.y ? [batch.x, batch.y] : [batch.x]);
    }
  }
  return filled;
}
