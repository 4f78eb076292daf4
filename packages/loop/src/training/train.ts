import { tf } from '@prunefuse/engine';
import { type LabelledBatch, type Network, SgdMomentum } from '@prunefuse/models';
import type { EpochRecord, TrainingConfig } from '@prunefuse/results';
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
  const { training, stepsPerEpoch } = options;
  const records: EpochRecord[] = [];
  let examplesSeen = 0;
  let failed = true;
  try {
    for (let epoch = 0; epoch < training.epochs; epoch++) {
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
  private readonly optimizer: SgdMomentum;

  constructor(private readonly settings: EngineSettings) {
    this.optimizer = new SgdMomentum(settings.network.trainableVariables(), settings.optimizer);
  }

  epoch(epoch: number): EpochSteps {
    const { network, teacher } = this.settings;
    return new StepWindow(epoch, (batch, lr) => step(network, this.optimizer, batch, lr, teacher));
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

function checkTraining(training: TrainingSchedule): void {
  const { epochs, evalEvery } = training;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(evalEvery) || evalEvery < 1) {
    throw new RangeError(`evalEvery must be a positive integer, got ${evalEvery}`);
  }
}
