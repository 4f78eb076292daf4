import type { DatasetName } from '@prunefuse/data';
import type { EnvironmentRecord } from '@prunefuse/engine';

/**
 * The vocabulary of results: what one resolved run asks for (RunConfig) and what it
 * produced (RunRecord). Plain JSON data, so that the store, the report, the regression
 * check and MLflow all read the same shape.
 */

export { DATASET_NAMES, type DatasetName } from '@prunefuse/data';

export const ACQUISITION_NAMES = [
  'least-confidence',
  'entropy',
  'margin',
  'k-centers',
  'random',
] as const;
export type AcquisitionName = (typeof ACQUISITION_NAMES)[number];

export const PRUNING_CRITERIA = ['magnitude', 'snip'] as const;
export type PruningCriterion = (typeof PRUNING_CRITERIA)[number];

export const SCHEDULE_NAMES = ['svp-step', 'cosine', 'constant'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate; 'svp-step' warms up at lr/10 for its first segment. */
  lr: number;
  schedule: ScheduleName;
  momentum: number;
  weightDecay: number;
  augment: boolean;
  /** Evaluate on the test split every this many epochs (and always after the last). */
  evalEvery: number;
}

export type MethodConfig =
  | {
      name: 'prunefuse';
      /** Fraction of channels removed per prunable group, 0 <= prune < 1. */
      prune: number;
      criterion: PruningCriterion;
      /** false: the target is trained from scratch on the selected set (ablation). */
      fusion: boolean;
      /** false: the fused target is fine-tuned with cross-entropy only (ablation). */
      kd: boolean;
      /** What unpruned positions of the fused target hold: θ's own init (paper) or zeros. */
      fill: 'init' | 'zero';
      kdLambda: number;
      kdTemperature: number;
    }
  | {
      name: 'svp';
      /** The proxy architecture that selects, e.g. resnet20 for a resnet56 target. */
      proxyArch: string;
      /** The proxy's own, shorter schedule. */
      proxyTraining: TrainingConfig;
    }
  | { name: 'active-learning' }
  | { name: 'random' }
  | { name: 'full' };

export type MethodName = MethodConfig['name'];

/** Written as a record so that the compiler rejects a list that misses or misspells a method. */
export const METHOD_NAMES = Object.keys({
  prunefuse: true,
  svp: true,
  'active-learning': true,
  random: true,
  full: true,
} satisfies Record<MethodName, true>) as MethodName[];

export interface BudgetConfig {
  /** Size of the initial labelled set s0 (drawn by seed). */
  initial: number;
  /** Labelled-set sizes at which the target is built and measured, ascending. */
  milestones: number[];
  /** Samples labelled per selection round (the last round before a milestone may label fewer). */
  roundSize: number;
  /** Draw s0 with the same count per class. */
  classBalancedInitial: boolean;
}

export interface RunConfig {
  /** The experiment (config file stem) this run belongs to. */
  experiment: string;
  dataset: {
    name: DatasetName;
    dataDir: string | null;
    /** Use only the first N training / test examples of the (seeded) split; null for all. */
    trainSubset: number | null;
    testSubset: number | null;
  };
  /** The target architecture θ. */
  arch: string;
  method: MethodConfig;
  acquisition: AcquisitionName;
  budget: BudgetConfig;
  /** Training of the selector (θp, the proxy, or θ itself) each round. */
  selectorTraining: TrainingConfig;
  /** Training of the final target at each milestone (fine-tuning for fused targets). */
  targetTraining: TrainingConfig;
  /** Record Spearman and top-k overlap between selector and full-model scores each round. */
  rankAgreement: boolean;
  seed: number;
  backend: string;
}

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  /** Present on epochs where the test split was evaluated. */
  testAccuracy?: number;
  testLoss?: number;
  seconds: number;
}

export interface MacsByPhase {
  /** Training the selector (θp, proxy or θ): every round's and every target's θp*. */
  selectorTraining: number;
  /** Forward passes of the selector over the unlabelled pool, all rounds. */
  poolScoring: number;
  /** Training (or fine-tuning) the target, all milestones; KD teacher forwards included. */
  targetTraining: number;
  total: number;
}

export interface RoundRecord {
  round: number;
  /** Labelled-set size the selector was trained on this round. */
  labelled: number;
  selectorAccuracy: number | null;
  selectorLoss: number | null;
  /** Training the selector for this round; 0 when it was already trained for a target. */
  trainSeconds: number;
  selectionSeconds: number;
  /** selectorTraining is 0 when the selector was already trained for a milestone's target. */
  macs: { selectorTraining: number; poolScoring: number };
  /** Indices (into the training split) labelled by this round, in selection order. */
  selected: number[];
  epochs: EpochRecord[];
  rankAgreement?: { spearman: number; topKOverlap: number; k: number };
}

export interface TargetRecord {
  /** Labelled-set size the target was trained on. */
  labelled: number;
  /** labelled / training-set size. */
  fraction: number;
  accuracy: number;
  loss: number;
  /** How the target was initialised: fused from θp*, or from scratch. */
  init: 'fused' | 'scratch';
  kd: boolean;
  trainSeconds: number;
  /** Training (or fine-tuning) this target, KD teacher forwards included. */
  macs: number;
  /**
   * Training the selector on exactly this labelled set because this target asked for it
   * first (θp* for PruneFuse's fusion and distillation); 0 when the target did not use it.
   * The next round selects with that same selector and is not charged for it again.
   */
  selectorTrainingMacs: number;
  epochs: EpochRecord[];
}

export interface RunRecord {
  schema: 1;
  id: string;
  config: RunConfig;
  environment: EnvironmentRecord & { gitCommit: string | null };
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  params: { target: number; selector: number | null };
  /** Forward MACs of one example through the target and the selector. */
  macsPerExample: { target: number; selector: number | null };
  trainSize: number;
  testSize: number;
  initialLabelled: number[];
  rounds: RoundRecord[];
  targets: TargetRecord[];
  macs: MacsByPhase;
}
