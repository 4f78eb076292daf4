import { tf } from '@prunefuse/engine';
import { type LabelledBatch, type Network, SgdMomentum } from '@prunefuse/models';
import type { EpochRecord, OptimizerState, TrainingConfig } from '@prunefuse/results';
import { CompiledEngine, usesCompiledTrainer } from './compiled-engine.js';
import { type CompiledTrainers, withCompiledTrainers } from './compiled-trainers.js';
import { TrainingDivergedError } from './diverged.js';
import { crossEntropy, distillationLoss } from './loss.js';
import { learningRateAt } from './schedule.js';
import type { EngineSettings, EpochSteps, StepEngine, Teacher } from './step-engine.js';

export { TrainingDivergedError } from './diverged.js';
export type { Teacher } from './step-engine.js';

export type TrainingSchedule = Pick<
  TrainingConfig,
  'epochs' | 'lr' | 'schedule' | 'momentum' | 'nesterov' | 'weightDecay' | 'evalEvery'
>;

export interface TrainOptions {
  /** A full TrainingConfig will do; batchSize and augment belong to the `batches` side. */
  training: TrainingSchedule;
  /**
   * The batches of one epoch (0-based), e.g. seeded, shuffled and augmented by
   * @prunefuse/data. The trainer disposes every batch after its step.
   */
  batches: (epoch: number) => Iterable<LabelledBatch>;
  /**
   * How many batches every epoch supplies, e.g. ceil(examples / batchSize). A per-step
   * schedule ('one-cycle') needs it to know the run's length before it starts; when given,
   * an epoch that supplies another number is an error.
   */
  stepsPerEpoch?: number;
  /** Train with the distillation loss from this teacher instead of plain cross-entropy. */
  teacher?: Teacher;
  /** Test-split metrics, called after every evalEvery-th epoch and after the last. */
  evaluate?: (epoch: number) => Promise<EvaluationResult> | EvaluationResult;
  onEpoch?: (record: EpochRecord) => void;
  /**
   * The run's compiled trainers, reused when the compiled trainer trains (the webgpu
   * backend); without them a training compiles its own and destroys them at its end.
   */
  trainers?: CompiledTrainers;
  /**
   * Go on from where an interrupted training of this network with these options stopped:
   * its epochs so far and its optimiser state. The network must already hold the weights
   * it had then. Exact, because each epoch's batches and learning rates are functions of
   * the epoch index alone (see `batches` and the schedule).
   */
  resumeFrom?: TrainingProgress;
  /**
   * Called after every epoch but the last, once the network holds that epoch's weights,
   * with what resumeFrom needs besides them. The training waits for it.
   */
  onProgress?: (progress: TrainingProgress) => Promise<void> | void;
}

/** A training's state after some of its epochs (the weights aside). */
export interface TrainingProgress {
  epochs: EpochRecord[];
  examplesSeen: number;
  optimizer: OptimizerState;
}

export interface EvaluationResult {
  accuracy: number;
  loss: number;
}

export interface TrainResult {
  /** One record per epoch; `epoch` is the 0-based epoch index. */
  epochs: EpochRecord[];
  /** Training examples forwarded (and back-propagated), all epochs together. */
  examplesSeen: number;
}

/**
 * Steps between read-backs of the per-step loss and accuracy. Reading back every step
 * would stall an asynchronous backend's queue once per step; once per epoch would let a
 * divergence run on for a whole epoch and lose which step it started at. The steps of a
 * window are read back together, so the error still names the first bad step.
 */
const READ_BACK_EVERY = 16;

/**
 * Trains `network` in place with SGD + momentum (Nesterov's when training.nesterov) over
 * `training.epochs` epochs, the learning rate set before every step by training.schedule. Per-epoch training loss and accuracy are averaged
 * over examples; test metrics come from `evaluate`. `seconds` is the epoch's wall time,
 * evaluation included. Throws TrainingDivergedError when the loss stops being finite.
 */
export async function trainNetwork(network: Network, options: TrainOptions): Promise<TrainResult> {
  checkTraining(options.training);
  if (!usesCompiledTrainer()) return train(options, new TfjsEngine(settingsOf(network, options)));
  return withCompiledTrainers(options.trainers, (trainers) =>
    train(options, new CompiledEngine(settingsOf(network, options), trainers)),
  );
}

/** The layout of the optimiser state trainNetwork's engine reads and restores, on this backend. */
export function optimizerLayout(): OptimizerState['layout'] {
  return usesCompiledTrainer() ? 'compiled-momentum' : 'tfjs-velocities';
}

function settingsOf(network: Network, { training, teacher }: TrainOptions): EngineSettings {
  return {
    network,
    optimizer: {
      momentum: training.momentum,
      weightDecay: training.weightDecay,
      nesterov: training.nesterov ?? false,
    },
    teacher,
  };
}

/** The epochs of trainNetwork, stepped by `engine`. */
async function train(options: TrainOptions, engine: StepEngine): Promise<TrainResult> {
  const { training, stepsPerEpoch, resumeFrom } = options;
  const records: EpochRecord[] = [...(resumeFrom?.epochs ?? [])];
  let examplesSeen = resumeFrom?.examplesSeen ?? 0;
  let failed = true;
  try {
    if (resumeFrom) {
      checkResumable(resumeFrom, training);
      engine.restoreOptimizer(resumeFrom.optimizer);
    }
    for (let epoch = records.length; epoch < training.epochs; epoch++) {
      const started = performance.now();
      const rateAt = (step: number) =>
        learningRateAt(
          training.schedule,
          { epoch, step, epochs: training.epochs, stepsPerEpoch },
          training.lr,
        );
      const window = engine.epoch(epoch);
      try {
        for (const batch of options.batches(epoch)) {
          try {
            if (stepsPerEpoch !== undefined && window.steps === stepsPerEpoch) {
              throw new Error(
                `epoch ${epoch} supplied more than the ${stepsPerEpoch} batches stepsPerEpoch promised`,
              );
            }
            const lr = rateAt(window.steps);
            await window.step(batch, lr);
          } finally {
            tf.dispose([batch.x, batch.y]);
          }
          if (window.pending === READ_BACK_EVERY) await window.readBack();
        }
        await window.readBack();
      } finally {
        window.dispose();
      }
      if (window.examples === 0) {
        throw new Error(`epoch ${epoch} supplied no training batches; is the labelled set empty?`);
      }
      if (stepsPerEpoch !== undefined && window.steps !== stepsPerEpoch) {
        throw new Error(
          `epoch ${epoch} supplied ${window.steps} batches, not the ${stepsPerEpoch} stepsPerEpoch promised`,
        );
      }
      // Evaluation, onEpoch and the caller read the Network's weights.
      engine.syncWeights();
      examplesSeen += window.examples;
      const record: EpochRecord = {
        epoch,
        lr: rateAt(0),
        trainLoss: window.lossSum / window.examples,
        trainAccuracy: window.correct / window.examples,
        seconds: 0,
      };
      if (
        options.evaluate &&
        ((epoch + 1) % training.evalEvery === 0 || epoch === training.epochs - 1)
      ) {
        const test = await options.evaluate(epoch);
        record.testAccuracy = test.accuracy;
        record.testLoss = test.loss;
      }
      record.seconds = (performance.now() - started) / 1000;
      records.push(record);
      options.onEpoch?.(record);
      if (options.onProgress && epoch < training.epochs - 1) {
        await options.onProgress({
          epochs: [...records],
          examplesSeen,
          optimizer: await engine.readOptimizer(),
        });
      }
    }
    failed = false;
  } finally {
    engine.dispose({ failed });
  }
  return { epochs: records, examplesSeen };
}

/** One SGD step; returns [batch-mean loss, correct predictions] on the device. */
function step(
  network: Network,
  optimizer: SgdMomentum,
  batch: LabelledBatch,
  lr: number,
  teacher: Teacher | undefined,
): tf.Tensor1D {
  return tf.tidy(() => {
    const teacherLogits = teacher?.network.apply(batch.x, { training: false }).logits;
    let correct: tf.Scalar | undefined;
    const loss = optimizer.minimize(() => {
      const { logits } = network.apply(batch.x, { training: true });
      correct = tf.keep(
        tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'float32')) as tf.Scalar,
      );
      return teacher && teacherLogits
        ? distillationLoss(logits, teacherLogits, batch.y, teacher.lambda, teacher.temperature)
        : crossEntropy(logits, batch.y);
    }, lr);
    const stats = tf.stack([loss, correct!]) as tf.Tensor1D;
    correct!.dispose();
    return stats;
  });
}

/** Trains with tfjs ops and SgdMomentum on the Network's own variables. */
class TfjsEngine implements StepEngine {
  readonly optimizerLayout = 'tfjs-velocities';
  private readonly optimizer: SgdMomentum;

  constructor(private readonly settings: EngineSettings) {
    this.optimizer = new SgdMomentum(settings.network.trainableVariables(), settings.optimizer);
  }

  epoch(epoch: number): EpochSteps {
    const { network, teacher } = this.settings;
    return new StepWindow(epoch, (batch, lr) => step(network, this.optimizer, batch, lr, teacher));
  }

  async readOptimizer(): Promise<OptimizerState> {
    return { layout: this.optimizerLayout, values: await this.optimizer.readVelocities() };
  }

  restoreOptimizer(state: OptimizerState): void {
    if (state.layout !== this.optimizerLayout) {
      throw new Error(
        `cannot restore a '${state.layout}' optimiser state into tfjs's SGD ('${this.optimizerLayout}')`,
      );
    }
    this.optimizer.writeVelocities(state.values);
  }

  syncWeights(): void {
    // The steps update the Network's variables in place.
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The steps of one epoch not yet read back, and the sums of those that were. */
class StepWindow implements EpochSteps {
  lossSum = 0;
  correct = 0;
  examples = 0;
  /** Steps read back so far. */
  private readSteps = 0;
  private readonly stats: tf.Tensor1D[] = [];
  private readonly sizes: number[] = [];
  private readonly rates: number[] = [];

  constructor(
    private readonly epoch: number,
    private readonly takeStep: (batch: LabelledBatch, lr: number) => tf.Tensor1D,
  ) {}

  get pending(): number {
    return this.stats.length;
  }

  /** Steps taken this epoch, read back or not. */
  get steps(): number {
    return this.readSteps + this.stats.length;
  }

  async step(batch: LabelledBatch, lr: number): Promise<void> {
    this.stats.push(this.takeStep(batch, lr));
    this.sizes.push(batch.y.shape[0]);
    this.rates.push(lr);
  }

  async readBack(): Promise<void> {
    if (this.stats.length === 0) return;
    const stacked = tf.stack(this.stats);
    let values: Float32Array;
    try {
      values = (await stacked.data()) as Float32Array;
    } finally {
      stacked.dispose();
      this.dispose();
    }
    this.sizes.forEach((size, i) => {
      const loss = values[2 * i]!;
      if (!Number.isFinite(loss))
        throw new TrainingDivergedError(this.epoch, this.readSteps, this.rates[i]!, loss);
      this.lossSum += loss * size;
      this.correct += values[2 * i + 1]!;
      this.examples += size;
      this.readSteps++;
    });
    this.sizes.length = 0;
    this.rates.length = 0;
  }

  dispose(): void {
    tf.dispose(this.stats);
    this.stats.length = 0;
  }
}

function checkResumable(progress: TrainingProgress, training: TrainingSchedule): void {
  const { epochs } = progress;
  if (epochs.length >= training.epochs || epochs.some((record, i) => record.epoch !== i)) {
    throw new Error(
      `cannot resume a training of ${training.epochs} epochs after epochs ` +
        `[${epochs.map((e) => e.epoch).join(', ')}]: expected epochs 0 to k-1 for some k < ${training.epochs}`,
    );
  }
}

function checkTraining(training: TrainingSchedule): void {
  const { epochs, evalEvery } = training;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(evalEvery) || evalEvery < 1) {
    throw new RangeError(`evalEvery must be a positive integer, got ${evalEvery}`);
  }
}
