import type { tf } from '@prunefuse/engine';
import type { Network } from '@prunefuse/models';
import type { CompiledTrainer, Predictions } from '@prunefuse/webgpu-trainer';
import type { CompiledTrainers } from './compiled-trainers.js';

/**
 * A network's inference on a compiled webgpu trainer for its spec: one inference plan for
 * batches of the first batch's size or more (see CompiledTrainers.inference), the
 * network's weights uploaded once. Examples are independent in inference (batch norm uses
 * the moving statistics), so a smaller batch (the last) is padded with zeros to the
 * plan's size and a larger one runs in pieces of it: every batch replays the same plan.
 */
export class CompiledInference {
  private constructor(
    private readonly trainer: CompiledTrainer,
    private readonly batch: number,
  ) {}

  /** Compiles (or reuses) a plan for batches of `batch` examples and uploads `network`. */
  static async of(
    network: Network,
    batch: number,
    trainers: CompiledTrainers,
  ): Promise<CompiledInference> {
    const held = await trainers.inference(network.spec, batch);
    await held.trainer.uploadWeights(network);
    return new CompiledInference(held.trainer, held.batch);
  }

  /** Logits, probabilities and features of the examples of `x` (NHWC), row-major. */
  async run(x: tf.Tensor4D): Promise<Predictions> {
    const [examples, height, width, channels] = x.shape;
    // Batches built on the host keep their values there: this read costs no GPU round trip.
    const images = (await x.data()) as Float32Array;
    const padded = Math.ceil(examples / this.batch) * this.batch;
    if (padded === examples) return this.trainer.predict(images);
    const input = new Float32Array(padded * height * width * channels);
    input.set(images);
    const all = await this.trainer.predict(input);
    const rows = (values: Float32Array) => values.subarray(0, (values.length / padded) * examples);
    return {
      logits: rows(all.logits),
      probabilities: rows(all.probabilities),
      features: rows(all.features),
    };
  }
}
