import { z } from 'zod';

/**
 * The vocabulary of results: what one resolved run asks for (RunConfig) and what it
 * produced (RunRecord). Plain JSON data, so that the store, the report, the regression
 * check and MLflow all read the same shape.
 *
 * The zod schemas below are the one definition: the TypeScript types are inferred from
 * them, and every record read from a store is checked against runRecordSchema, so a
 * damaged or hand-edited record is refused with the field that is wrong instead of
 * flowing into a report.
 *
 * The schema checks what a writer of this program guarantees: types, integer counts,
 * non-negative sizes and compute. It does not bound measured figures (accuracy, loss):
 * a figure out of its range is a finding about the measurement, reported by `check`.
 *
 * This package stands alone (no tfjs, so `report` and `check` read a store without
 * loading an engine): dataset and backend names are non-empty strings here. Which names
 * exist is the data and engine packages' knowledge, checked where a config is parsed;
 * the shapes of an augmentation setting and an environment are checked by the compiler
 * where the runner hands a record's fields to those packages or builds a record from them.
 */

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

export const SCHEDULE_NAMES = ['svp-step', 'cosine', 'constant', 'one-cycle'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

const count = z.number().int().nonnegative();
const positiveCount = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const fraction = z.number().min(0).max(1);

const trainingConfigSchema = z.object({
  epochs: positiveCount,
  batchSize: positiveCount,
  /** Peak learning rate; 'svp-step' warms up at lr/10 for its first segment. */
  lr: z.number().positive(),
  schedule: z.enum(SCHEDULE_NAMES),
  momentum: fraction,
  /** Nesterov momentum (torch.optim.SGD's nesterov); absent, as before it existed: false. */
  nesterov: z.boolean().optional(),
  weightDecay: nonNegative,
  /**
   * true: the dataset's own augmentation (crop-flip for colour images, none for digits);
   * false: none; or a random translation by up to ±translate pixels, then flips if `flip`.
   */
  augment: z.union([z.boolean(), z.object({ translate: count, flip: z.boolean() })]),
  /** Evaluate on the test split every this many epochs (and always after the last). */
  evalEvery: positiveCount,
});
export type TrainingConfig = z.infer<typeof trainingConfigSchema>;

const methodConfigSchema = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('prunefuse'),
    /**
     * Fraction of channels removed per prunable group, 0 < prune < 1: unpruned
     * (prune 0) selection is standard active learning.
     */
    prune: z.number().gt(0).lt(1),
    criterion: z.enum(PRUNING_CRITERIA),
    /** false: the target is trained from scratch on the selected set (ablation). */
    fusion: z.boolean(),
    /** false: the fused target is fine-tuned with cross-entropy only (ablation). */
    kd: z.boolean(),
    /** What unpruned positions of the fused target hold: θ's own init (paper) or zeros. */
    fill: z.enum(['init', 'zero']),
    /** λ of λ·CE(y, θF) + (1-λ)·KD(θp*, θF, T): the weight on the hard-label cross-entropy. */
    kdLambda: fraction,
    kdTemperature: z.number().positive(),
  }),
  z.object({
    name: z.literal('svp'),
    /** The proxy architecture that selects, e.g. resnet20 for a resnet56 target. */
    proxyArch: z.string().min(1),
    /** The proxy's own, shorter schedule. */
    proxyTraining: trainingConfigSchema,
  }),
  z.object({ name: z.literal('active-learning') }),
  z.object({ name: z.literal('random') }),
  z.object({ name: z.literal('full') }),
]);
export type MethodConfig = z.infer<typeof methodConfigSchema>;
export type MethodName = MethodConfig['name'];

/** Written as a record so that the compiler rejects a list that misses or misspells a method. */
export const METHOD_NAMES = Object.keys({
  prunefuse: true,
  svp: true,
  'active-learning': true,
  random: true,
  full: true,
} satisfies Record<MethodName, true>) as MethodName[];

const budgetConfigSchema = z.object({
  /** Size of the initial labelled set s0 (drawn by seed). */
  initial: positiveCount,
  /** Labelled-set sizes at which the target is built and measured, ascending. */
  milestones: z.array(positiveCount).min(1),
  /** Samples labelled per selection round (the last round before a milestone may label fewer). */
  roundSize: positiveCount,
  /** Draw s0 with the same count per class. */
  classBalancedInitial: z.boolean(),
});
export type BudgetConfig = z.infer<typeof budgetConfigSchema>;

/**
 * Records written before dataSeed existed drew their subsets with the run's own seed:
 * reading one, its data seed is that seed (which is what it computed on).
 */
function withDataSeed(config: unknown): unknown {
  if (config === null || typeof config !== 'object') return config;
  const { dataset, seed } = config as { dataset?: unknown; seed?: unknown };
  if (dataset === null || typeof dataset !== 'object' || 'dataSeed' in dataset) return config;
  return { ...config, dataset: { ...dataset, dataSeed: seed } };
}

const runConfigFields = z.object({
  /** The experiment (config file stem) this run belongs to. */
  experiment: z.string().min(1),
  dataset: z.object({
    name: z.string().min(1),
    dataDir: z.string().nullable(),
    /** Use only the first N training / test examples of the (seeded) split; null for all. */
    trainSubset: positiveCount.nullable(),
    testSubset: positiveCount.nullable(),
    /**
     * Seeds the subsets, once per experiment: every run of a sweep sees the same data, so
     * the spread over run seeds is the method's own (initialisation, initial labelled set,
     * batch order), not data sampling.
     */
    dataSeed: z.number().int(),
  }),
  /** The target architecture θ. */
  arch: z.string().min(1),
  method: methodConfigSchema,
  acquisition: z.enum(ACQUISITION_NAMES),
  budget: budgetConfigSchema,
  /** Training of the selector (θp, the proxy, or θ itself) each round. */
  selectorTraining: trainingConfigSchema,
  /** Training of the final target at each milestone (fine-tuning for fused targets). */
  targetTraining: trainingConfigSchema,
  /** Record Spearman and top-k overlap between selector and full-model scores each round. */
  rankAgreement: z.boolean(),
  seed: z.number().int(),
  backend: z.string().min(1),
});
const runConfigSchema = z.preprocess(withDataSeed, runConfigFields);
export type RunConfig = z.infer<typeof runConfigFields>;

const epochRecordSchema = z.object({
  epoch: count,
  /** The learning rate of the epoch's first step (per-step schedules move it within the epoch). */
  lr: z.number(),
  trainLoss: z.number(),
  trainAccuracy: z.number(),
  /** Present on epochs where the test split was evaluated. */
  testAccuracy: z.number().optional(),
  testLoss: z.number().optional(),
  seconds: nonNegative,
});
export type EpochRecord = z.infer<typeof epochRecordSchema>;

const macsByPhaseSchema = z.object({
  /** Training the selector (θp, proxy or θ): every round's and every target's θp*. */
  selectorTraining: nonNegative,
  /**
   * Forward passes of the selector that choose, all rounds: the unlabelled pool, and for
   * k-centres the labelled set too (its embeddings are the centres).
   */
  poolScoring: nonNegative,
  /** Training (or fine-tuning) the target, all milestones; KD teacher forwards included. */
  targetTraining: nonNegative,
  total: nonNegative,
});
export type MacsByPhase = z.infer<typeof macsByPhaseSchema>;

const roundRecordSchema = z.object({
  round: count,
  /** Labelled-set size the selector was trained on this round. */
  labelled: positiveCount,
  selectorAccuracy: z.number().nullable(),
  selectorLoss: z.number().nullable(),
  /** Training the selector for this round; 0 when it was already trained for a target. */
  trainSeconds: nonNegative,
  /** Scoring the pool and acquiring; the rank-agreement measurement is not included. */
  selectionSeconds: nonNegative,
  /** selectorTraining is 0 when the selector was already trained for a milestone's target. */
  macs: z.object({ selectorTraining: nonNegative, poolScoring: nonNegative }),
  /** Indices (into the training split) labelled by this round, in selection order. */
  selected: z.array(count),
  epochs: z.array(epochRecordSchema),
  /**
   * Measurement only, never charged to the method: θ trained on the same labelled set and
   * both networks' uncertainty rankings of the pool compared; its own time and MACs.
   */
  rankAgreement: z
    .object({
      spearman: z.number(),
      topKOverlap: z.number(),
      k: positiveCount,
      seconds: nonNegative,
      macs: nonNegative,
    })
    .optional(),
});
export type RoundRecord = z.infer<typeof roundRecordSchema>;

const targetRecordSchema = z.object({
  /** Labelled-set size the target was trained on. */
  labelled: positiveCount,
  /** labelled / training-set size. */
  fraction,
  accuracy: z.number(),
  loss: z.number(),
  /** How the target was initialised: fused from θp*, or from scratch. */
  init: z.enum(['fused', 'scratch']),
  kd: z.boolean(),
  trainSeconds: nonNegative,
  /** Training (or fine-tuning) this target, KD teacher forwards included. */
  macs: nonNegative,
  /**
   * Training the selector on exactly this labelled set because this target asked for it
   * first (θp* for PruneFuse's fusion and distillation); 0 when the target did not use it.
   * The next round selects with that same selector and is not charged for it again.
   */
  selectorTrainingMacs: nonNegative,
  /**
   * Test accuracy of the selector trained on exactly this labelled set (θp*), where the
   * target used it (fused from it or distilled from it): set beside the target's own, it
   * shows whether a distillation teacher was stronger or weaker than its student. Absent
   * when the target did not use it, and in records written before it was recorded.
   */
  selectorAccuracy: z.number().optional(),
  epochs: z.array(epochRecordSchema),
  /**
   * Present when training blew up without producing a NaN (see divergence.ts): the
   * figures are those of a broken model, and `check` fails on them.
   */
  diverged: z.object({ reason: z.string().min(1) }).optional(),
});
export type TargetRecord = z.infer<typeof targetRecordSchema>;

const environmentSchema = z.object({
  backend: z.string().min(1),
  device: z.string(),
  /** The GPU a webgpu run was asked for (--gpu, PRUNEFUSE_GPU) and the adapter that ran it. */
  gpu: z.object({ index: count, source: z.string(), adapter: z.string() }).optional(),
  versions: z.object({ tfjs: z.string(), node: z.string(), os: z.string() }),
  cpu: z.object({ model: z.string(), cores: positiveCount }),
  memoryGiB: nonNegative,
  gitCommit: z.string().nullable(),
});

export const runRecordSchema = z.object({
  schema: z.literal(1),
  id: z.string().min(1),
  config: runConfigSchema,
  environment: environmentSchema,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  wallSeconds: nonNegative,
  params: z.object({ target: positiveCount, selector: positiveCount.nullable() }),
  /** Forward MACs of one example through the target and the selector. */
  macsPerExample: z.object({ target: nonNegative, selector: nonNegative.nullable() }),
  trainSize: positiveCount,
  testSize: positiveCount,
  initialLabelled: z.array(count),
  rounds: z.array(roundRecordSchema),
  targets: z.array(targetRecordSchema),
  macs: macsByPhaseSchema,
  /**
   * The run's selection phase (absent for methods without a selector): its id, and the
   * run whose stored phase it replayed (in part, where its rounds followed it), null when
   * it computed its own. A replayed phase is charged what it cost when computed.
   */
  selection: z
    .object({ id: z.string().min(1), replayedFrom: z.string().min(1).nullable() })
    .optional(),
  /**
   * Present when an earlier attempt of this run was interrupted and this one resumed it:
   * the targets (by labelled-set size) replayed from the checkpoint, and when and on which
   * commit the first attempt started. startedAt and wallSeconds are this attempt's; each
   * target's trainSeconds is that of the attempt that trained it.
   */
  resumed: z
    .object({
      targets: z.array(positiveCount),
      firstStartedAt: z.iso.datetime(),
      firstGitCommit: z.string().nullable(),
    })
    .optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;
