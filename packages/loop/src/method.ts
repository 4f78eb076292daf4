import type { Dataset } from '@prunefuse/data';
import type { ModelSpec, Network } from '@prunefuse/models';
import type { MethodName, TrainingConfig } from '@prunefuse/results';
import type { TrainingOutcome, TrainOnLabelled } from './train-on-labelled.js';

/**
 * What distinguishes one method from another: how its selector is made each round and
 * how its target is made at each budget milestone. Everything else (the pool, rounds,
 * scoring, acquisition, bookkeeping, MAC accounting) belongs to the shared loop.
 */
export interface Method {
  readonly name: MethodName;
  /** The model that scores the pool; null when the method selects without one. */
  readonly selector: SelectorDefinition | null;
  /** Builds and trains the target on the labelled set of a milestone. */
  buildTarget(context: TargetContext): Promise<BuiltTarget>;
  /** Frees what the method holds (initial weights, pruned twins). */
  dispose(): void;
}

/** Makes a method once the run's θ and initial labelled set exist. */
export type MethodFactory = (setup: MethodSetup) => Method;

/**
 * A factory that reads θ's weights back first (PruneFuse ranks channels by them):
 * asynchronous, as a synchronous read of a GPU tensor fails on webgpu in Node.
 */
export type AsyncMethodFactory = (setup: MethodSetup) => Promise<Method>;

export interface MethodSetup {
  /** θ at initialisation. Shared and read-only: methods copy, never train, it. */
  dense: Network;
  dataset: Dataset;
  /** s0, e.g. for a gradient-based pruning criterion's labelled batch. */
  initialLabelled: Int32Array;
  seed: number;
}

export interface SelectorDefinition {
  spec: ModelSpec;
  training: TrainingConfig;
  /** A network in the selector's from-scratch state: the same initial weights every round. */
  fresh(): Network;
}

export interface TargetContext {
  /** The labelled training indices at this milestone, ascending. */
  labelled: Int32Array;
  /**
   * The selector trained from scratch on exactly `labelled` (θp* for PruneFuse), trained on
   * first request; the loop owns it. Throws for a method without a selector.
   */
  trainedSelector(): Promise<Network>;
  /** θ in its initial state, as a new network the caller owns. */
  freshTarget(): Network;
  /** Trains a network on `labelled` with the run's target schedule. */
  train: TrainOnLabelled;
}

export interface BuiltTarget extends TrainingOutcome {
  /** The trained target; the loop disposes it. */
  network: Network;
  init: 'fused' | 'scratch';
  kd: boolean;
}
