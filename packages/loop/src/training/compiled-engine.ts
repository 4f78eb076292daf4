import { tf } from '@prunefuse/engine';
import type { LabelledBatch } from '@prunefuse/models';
import type { OptimizerState } from '@prunefuse/results';
import type { CompiledTrainer, TrainingMetrics } from '@prunefuse/webgpu-trainer';
import { compiledTrainerChosen } from '@prunefuse/webgpu-trainer/choice';
import type { CompiledTrainers } from './compiled-trainers.js';
import { TrainingDivergedError } from './diverged.js';
import type { EngineSettings, EpochSteps, StepEngine } from './step-engine.js';

/**
 * Whether trainNetwork uses the compiled trainer (@prunefuse/webgpu-trainer): on the
 * webgpu backend unless PRUNEFUSE_WEBGPU_TRAINER=tfjs asks for tfjs ops, kept for
 * side-by-side measurement; wasm and cpu always train with tfjs ops. (The choice comes
 * from a subpath, so deciding does not load the trainer.)
 */
export function usesCompiledTrainer(
  backend: string = tf.getBackend(),
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return backend === 'webgpu' && compiledTrainerChosen(env);
}

/**
 * Trains with the compiled webgpu trainer, taken from the run's CompiledTrainers at the
 * first batch's size (smaller batches, the last of an epoch, get plans of their own), so
 * the package is loaded only when a webgpu run trains. The Network's weights (and the
 * teacher's) go into the trainers' arenas then and come back by syncWeights.
 */
export class CompiledEngine implements StepEngine {
  readonly optimizerLayout = 'compiled-momentum';
  private student: CompiledTrainer | null = null;
  private batch = 0;
  /** Steps taken since the weights were last downloaded into the Network. */
  private unsynced = false;
  /** Momentum to restore once the student is compiled (at the first step). */
  private restoredMomentum: Float32Array | null = null;

  constructor(
    private readonly settings: EngineSettings,
    private readonly trainers: CompiledTrainers,
  ) {}

  epoch(epoch: number): EpochSteps {
    return new CompiledEpoch(epoch, this);
  }

  async step(batch: LabelledBatch, lr: number): Promise<void> {
    const examples = batch.y.shape[0];
    // The data package builds batches from host arrays; tfjs keeps those values on the
    // host until a kernel uses them, so reading them back costs no GPU round trip.
    const [images, labels] = await Promise.all([batch.x.data(), batch.y.data()]);
    const student = this.student ?? (await this.prepare(examples));
    if (examples > this.batch) {
      throw new RangeError(
        `a batch of ${examples} examples after a first batch of ${this.batch}: the compiled ` +
          "trainer is compiled at the first batch's size, so later batches may only be smaller " +
          '(or train with tfjs ops: PRUNEFUSE_WEBGPU_TRAINER=tfjs)',
      );
    }
    student.step({
      images: images as Float32Array,
      labels: labels instanceof Int32Array ? labels : Int32Array.from(labels),
      lr,
    });
    this.unsynced = true;
  }

  async readOptimizer(): Promise<OptimizerState> {
    if (!this.student) throw new Error('readOptimizer before the first compiled step');
    return { layout: this.optimizerLayout, values: await this.student.readMomentum() };
  }

  restoreOptimizer(state: OptimizerState): void {
    if (state.layout !== this.optimizerLayout || this.student) {
      throw new Error(
        `cannot restore a '${state.layout}' optimiser state into the compiled trainer ` +
          (this.student ? 'after its first step' : `(it keeps '${this.optimizerLayout}')`),
      );
    }
    this.restoredMomentum = state.values;
  }

  async readMetrics(): Promise<TrainingMetrics> {
    if (!this.student) throw new Error('readMetrics before the first compiled step');
    return this.student.readMetrics();
  }

  syncWeights(): void {
    if (!this.student || !this.unsynced) return;
    this.student.downloadWeights(this.settings.network);
    this.unsynced = false;
  }

  /**
   * The trainers stay with the run's CompiledTrainers for the next training; after a
   * failure the student is destroyed there, its state (metrics, plans) being unknown.
   */
  dispose({ failed }: { failed: boolean }): void {
    if (failed && this.student) this.trainers.evict(this.student);
    this.student = null;
  }

  private async prepare(batch: number): Promise<CompiledTrainer> {
    const { network, optimizer, teacher } = this.settings;
    const trainers = await this.trainers.training({
      spec: network.spec,
      batch,
      optimizer,
      ...(teacher
        ? {
            teacher: {
              spec: teacher.network.spec,
              lambda: teacher.lambda,
              temperature: teacher.temperature,
            },
          }
        : {}),
    });
    if (teacher) await trainers.teacher!.uploadWeights(teacher.network);
    await trainers.student.uploadWeights(network);
    // uploadWeights zeroes the momentum: a resumed training's goes in after it.
    if (this.restoredMomentum) trainers.student.writeMomentum(this.restoredMomentum);
    this.restoredMomentum = null;
    this.student = trainers.student;
    this.batch = batch;
    return trainers.student;
  }
}

/** One epoch's steps on the compiled trainer, whose loss and accuracy sum on the GPU. */
class CompiledEpoch implements EpochSteps {
  lossSum = 0;
  correct = 0;
  examples = 0;
  private readSteps = 0;
  private pendingSteps = 0;
  private pendingExamples = 0;
  /** Learning rate of the first pending step, for the divergence error. */
  private firstRate = 0;

  constructor(
    private readonly epochIndex: number,
    private readonly engine: CompiledEngine,
  ) {}

  get pending(): number {
    return this.pendingSteps;
  }

  get steps(): number {
    return this.readSteps + this.pendingSteps;
  }

  async step(batch: LabelledBatch, lr: number): Promise<void> {
    await this.engine.step(batch, lr);
    if (this.pendingSteps === 0) this.firstRate = lr;
    this.pendingSteps++;
    this.pendingExamples += batch.y.shape[0];
  }

  async readBack(): Promise<void> {
    if (this.pendingSteps === 0) return;
    const metrics = await this.engine.readMetrics();
    const lastStep = this.readSteps + this.pendingSteps - 1;
    if (metrics.examples !== this.pendingExamples) {
      throw new Error(
        `the compiled trainer counted ${metrics.examples} examples in epoch ${this.epochIndex}, ` +
          `steps ${this.readSteps} to ${lastStep}, but the batches held ${this.pendingExamples}`,
      );
    }
    if (!Number.isFinite(metrics.loss)) {
      throw new TrainingDivergedError(
        this.epochIndex,
        this.readSteps,
        this.firstRate,
        metrics.loss,
        lastStep,
      );
    }
    this.lossSum += metrics.loss * metrics.examples;
    this.correct += Math.round(metrics.accuracy * metrics.examples);
    this.examples += metrics.examples;
    this.readSteps += this.pendingSteps;
    this.pendingSteps = 0;
    this.pendingExamples = 0;
  }

  dispose(): void {
    // Pending steps hold nothing on the host; the trainer's buffers go with the engine.
  }
}
