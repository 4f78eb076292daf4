import { type Dataset, epochBatches, orderedBatches } from '@prunefuse/data';
import type { Rng } from '@prunefuse/engine';
import { countMacs, type Network } from '@prunefuse/models';
import { type EpochRecord, type TrainingConfig, trainingMacs } from '@prunefuse/results';
import { type HostWeights, readHostWeights, withTensors } from './host-weights.js';
import {
  type CompiledTrainers,
  evaluateNetwork,
  optimizerLayout,
  type Teacher,
  type TrainingProgress,
  trainNetwork,
} from './training/index.js';

export interface TrainingOutcome {
  epochs: EpochRecord[];
  trainSeconds: number;
  /** Multiply-accumulates spent, by the cost model's trainingMacs (KD teacher included). */
  macs: number;
  /** Test accuracy and loss after the last epoch. */
  accuracy: number;
  loss: number;
}

export type TrainOnLabelled = (
  network: Network,
  options?: { teacher?: Teacher },
) => Promise<TrainingOutcome>;

export interface TrainOnLabelledOptions {
  dataset: Dataset;
  labelled: Int32Array;
  training: TrainingConfig;
  /** Seeds the shuffles and augmentation of every epoch. */
  rng: Rng;
  /** Batch size for test-set evaluation. */
  evalBatchSize: number;
  onEpoch?: (epoch: EpochRecord) => void;
  /** The run's compiled webgpu trainers, reused by every training and evaluation. */
  trainers?: CompiledTrainers;
  /**
   * Where this training saves its state after every epoch, under `key` (naming it within
   * the run), and from which it resumes a state an interrupted attempt saved there.
   */
  checkpoint?: { checkpoints: TrainingCheckpoints; key: string };
}

/** A training's state after an epoch: its progress and the network's variables. */
export type TrainingState = TrainingProgress & { weights: HostWeights };

/** Where a run keeps its training in progress (one at a time), by key. */
export interface TrainingCheckpoints {
  /** The state an interrupted attempt saved under `key`, where it can resume here; else null. */
  load(key: string): TrainingState | null;
  save(key: string, state: TrainingState): void;
}

/** Trains networks on a labelled set with one schedule, evaluating on the test split. */
export function trainOnLabelled(options: TrainOnLabelledOptions): TrainOnLabelled {
  const { dataset, labelled, training, trainers } = options;
  const testIndices = Int32Array.from({ length: dataset.test.size }, (_, i) => i);
  const evaluate = (network: Network) =>
    evaluateNetwork(
      network,
      orderedBatches(dataset.test, testIndices, { batchSize: options.evalBatchSize, dataset }),
      { trainers },
    );
  const { checkpoint } = options;
  return async (network, { teacher } = {}) => {
    const started = performance.now();
    const saved = checkpoint?.checkpoints.load(checkpoint.key) ?? null;
    // Resumable only by the engine that saved it (the compiled trainer's momentum is laid
    // out in its arena: PRUNEFUSE_WEBGPU_TRAINER may differ between attempts), into the
    // network it was saved from (a code change between attempts may have changed it).
    const resumeFrom =
      saved?.optimizer.layout === optimizerLayout() && sameVariables(network, saved.weights)
        ? saved
        : null;
    if (resumeFrom) withTensors(resumeFrom.weights, (weights) => network.setWeights(weights));
    const result = await trainNetwork(network, {
      training,
      teacher,
      stepsPerEpoch: Math.ceil(labelled.length / training.batchSize),
      batches: (epoch) =>
        epochBatches(dataset.train, labelled, {
          batchSize: training.batchSize,
          rng: options.rng.child('epoch', epoch),
          augment: training.augment,
          dataset,
        }),
      evaluate: async () => evaluate(network),
      onEpoch: options.onEpoch,
      trainers,
      ...(resumeFrom ? { resumeFrom } : {}),
      ...(checkpoint
        ? {
            onProgress: async (progress: TrainingProgress) =>
              checkpoint.checkpoints.save(checkpoint.key, {
                ...progress,
                weights: await readHostWeights(network),
              }),
          }
        : {}),
    });
    const last = result.epochs.at(-1);
    if (last?.testAccuracy === undefined || last.testLoss === undefined) {
      throw new Error('training finished without evaluating its last epoch on the test split');
    }
    return {
      epochs: result.epochs,
      trainSeconds: (performance.now() - started) / 1000,
      macs: trainingMacs({
        examples: result.examplesSeen,
        forwardMacs: countMacs(network.spec),
        teacherForwardMacs: teacher ? countMacs(teacher.network.spec) : 0,
      }),
      accuracy: last.testAccuracy,
      loss: last.testLoss,
    };
  };
}

/** Whether `weights` has exactly the network's variables, by name and shape. */
function sameVariables(network: Network, weights: HostWeights): boolean {
  return (
    weights.size === network.variables.size &&
    [...network.variables].every(
      ([name, variable]) => weights.get(name)?.shape.join('x') === variable.shape.join('x'),
    )
  );
}
