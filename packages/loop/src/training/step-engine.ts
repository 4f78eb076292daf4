import type { LabelledBatch, Network } from '@prunefuse/models';
import type { OptimizerState } from '@prunefuse/results';

/** Knowledge distillation from a trained network (PruneFuse's fine-tuning of the fused target). */
export interface Teacher {
  /** The trained network whose softened logits the student matches; run in inference mode. */
  network: Network;
  /** Weight of the hard-label cross-entropy, in [0, 1]. */
  lambda: number;
  temperature: number;
}

/** What trains a network, and with what optimiser settings and loss. */
export interface EngineSettings {
  network: Network;
  optimizer: { momentum: number; weightDecay: number; nesterov: boolean };
  teacher: Teacher | undefined;
}

/**
 * The steps of one epoch: taken one by one, their loss and accuracy read back in windows
 * (reading back every step would stall an asynchronous backend's queue once per step).
 */
export interface EpochSteps {
  /** Steps taken this epoch, read back or not. */
  readonly steps: number;
  /** Steps taken and not read back yet. */
  readonly pending: number;
  /** Sums over the steps read back: loss x examples, correct predictions, examples. */
  readonly lossSum: number;
  readonly correct: number;
  readonly examples: number;
  /** One SGD step on `batch` at learning rate `lr`; the caller disposes the batch. */
  step(batch: LabelledBatch, lr: number): Promise<void>;
  /** Reads back the pending steps; throws TrainingDivergedError when their loss is not finite. */
  readBack(): Promise<void>;
  /** Frees what pending steps hold. */
  dispose(): void;
}

/** The tfjs optimiser, or the compiled webgpu trainer: what trainNetwork drives. */
export interface StepEngine {
  /** How readOptimizer lays out its values; a state of another layout cannot be restored. */
  readonly optimizerLayout: OptimizerState['layout'];
  epoch(epoch: number): EpochSteps;
  /** The optimiser's state after the steps taken so far: what resuming needs beside the weights. */
  readOptimizer(): Promise<OptimizerState>;
  /** Restores what readOptimizer gave for the same network and settings; before the first step. */
  restoreOptimizer(state: OptimizerState): void;
  /** Leaves the trained weights (batch-norm moving statistics included) in the Network. */
  syncWeights(): void;
  /** Frees the optimiser state (and GPU buffers it owns); safe after a failure. */
  dispose(outcome: { failed: boolean }): void;
}
