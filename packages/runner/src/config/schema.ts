import { DATASET_NAMES, resolveBudget } from '@prunefuse/data';
import { BACKEND_NAMES } from '@prunefuse/engine';
import { architectureNames } from '@prunefuse/models';
import {
  ACQUISITION_NAMES,
  METHOD_NAMES,
  PRUNEFUSE_DEFAULTS,
  PRUNING_CRITERIA,
  SCHEDULE_NAMES,
  type TrainingConfig,
} from '@prunefuse/results';
import { z } from 'zod';

/**
 * The schema of an experiment file (experiments/*.yaml). A file resolves to one RunConfig
 * per point of its sweep; see expand.ts for how lists expand and budgets resolve.
 *
 * Every message is phrased as what was expected; the loader adds the file, line, field
 * path and what was found.
 *
 * Sweep axes (a list means "each of these"; a single value is a list of one):
 *   arch, acquisition, seeds, and inside a method: prune, criterion, fusion, kd, fill,
 *   kdLambda, kdTemperature (prunefuse) and proxyArch, proxyEpochs (svp). A method entry
 *   may narrow the file's seeds and budget.milestones for its own runs.
 * Not a sweep axis: budget.milestones are the labelled-set sizes at which one run builds
 * and measures the target, as the paper's tables do.
 */

/** Training defaults: the SVP schedule the paper builds on (CIFAR, ResNet). */
export const TRAINING_DEFAULTS: TrainingConfig = {
  epochs: 181,
  batchSize: 128,
  lr: 0.1,
  schedule: 'svp-step',
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: true,
  evalEvery: 1,
};

export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;

const expected = (what: string) => ({ error: `expected ${what}` });

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expected(`one of ${values.join(', ')}`));
}

function numberIn(low: number, high: number, highIncluded: boolean) {
  const what = expected(`a number in [${low}, ${high}${highIncluded ? ']' : ')'}`);
  const atLeast = z.number(what).min(low, what);
  return highIncluded ? atLeast.max(high, what) : atLeast.lt(high, what);
}

/** Strictly between `low` and `high`. */
function numberBetween(low: number, high: number) {
  const what = expected(`a number strictly between ${low} and ${high}`);
  return z.number(what).gt(low, what).lt(high, what);
}

const positiveNumber = z
  .number(expected('a positive number'))
  .positive(expected('a positive number'));
const positiveInt = z
  .number(expected('a positive integer'))
  .int(expected('a positive integer'))
  .positive(expected('a positive integer'));
const integer = z.number(expected('an integer')).int(expected('an integer'));
const boolean = z.boolean(expected('true or false'));
/** An architecture the models package builds; a misspelt one is refused here, with its line. */
const architectureName = oneOf(architectureNames() as [string, ...string[]]);

/** A mapping that rejects unknown fields, naming the ones it knows. */
function fields<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = `one of ${Object.keys(shape).join(', ')}`;
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `expected ${known}`
        : `expected a mapping with fields ${known}`,
  });
}

/** A value or a list of values; the value alone means a list of one. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) => (value === undefined || Array.isArray(value) ? value : [value]),
    z.array(item, expected('a value or a list of values')).min(1, expected('a non-empty list')),
  );
}

/**
 * A number of training examples (1000), or a share of the training split as a fraction
 * (0.1) or a percentage ('10%'), in the data package's resolveBudget notation. Checked
 * here for form (against an unbounded split); resolved once the split's size is known.
 */
const quantityText = expected(
  "a count (1000), a fraction (0.1) or a percentage ('10%') of the training split",
);
const quantity = z.union([z.number(), z.string()], quantityText).refine((value) => {
  try {
    resolveBudget(value, Number.MAX_SAFE_INTEGER);
    return true;
  } catch {
    return false;
  }
}, quantityText);
export type Quantity = z.infer<typeof quantity>;

const trainingOverrides = fields({
  epochs: positiveInt.optional(),
  batchSize: positiveInt.optional(),
  lr: positiveNumber.optional(),
  schedule: oneOf(SCHEDULE_NAMES).optional(),
  momentum: numberIn(0, 1, false).optional(),
  /** Nesterov momentum (needs momentum > 0); default false. */
  nesterov: boolean.optional(),
  weightDecay: z.number(expected('a number >= 0')).min(0, expected('a number >= 0')).optional(),
  /**
   * true: the dataset's own augmentation; false: none; or {translate: T, flip: F}, a random
   * translation by up to ±T pixels (zero-filled), then random horizontal flips when F.
   */
  augment: z
    .union(
      [
        boolean,
        fields({
          translate: z
            .number(expected('a whole number of pixels >= 0'))
            .int(expected('a whole number of pixels >= 0'))
            .min(0, expected('a whole number of pixels >= 0')),
          flip: boolean.default(false),
        }),
      ],
      expected('true, false or a mapping {translate: pixels, flip: true or false}'),
    )
    .optional(),
  evalEvery: positiveInt.optional(),
});
export type TrainingOverrides = z.infer<typeof trainingOverrides>;

/**
 * What a method entry may narrow for its own runs: the file's seeds, and the milestones at
 * which its targets are built (the rounds stay the file's: initial, roundSize). E.g. a
 * full-data bound at one seed, or an ablation grid measured at the last budget only.
 */
const narrowSeeds = { seeds: oneOrMany(integer).optional() };
const narrowSweep = { ...narrowSeeds, milestones: oneOrMany(quantity).optional() };

const prunefuseEntry = fields({
  name: z.literal('prunefuse'),
  ...narrowSweep,
  /** Unpruned selection (prune 0) is standard active learning: the `active-learning` method. */
  prune: oneOrMany(numberBetween(0, 1)).default([PRUNEFUSE_DEFAULTS.prune]),
  criterion: oneOrMany(oneOf(PRUNING_CRITERIA)).default([PRUNEFUSE_DEFAULTS.criterion]),
  fusion: oneOrMany(boolean).default([PRUNEFUSE_DEFAULTS.fusion]),
  kd: oneOrMany(boolean).default([PRUNEFUSE_DEFAULTS.kd]),
  fill: oneOrMany(oneOf(['init', 'zero'])).default([PRUNEFUSE_DEFAULTS.fill]),
  /**
   * λ of the fine-tuning loss λ·CE(y, θF) + (1-λ)·KD(θp*, θF, T): the weight on the hard-label
   * cross-entropy (1: no distillation, 0: distillation only). Unpublished; default 0.5.
   */
  kdLambda: oneOrMany(numberIn(0, 1, true)).default([PRUNEFUSE_DEFAULTS.kdLambda]),
  /** T, the temperature that softens both networks' logits in the KD term. Unpublished; default 4. */
  kdTemperature: oneOrMany(positiveNumber).default([PRUNEFUSE_DEFAULTS.kdTemperature]),
});

/**
 * SVP's two kinds of proxy are separate options: a smaller architecture (`proxyArch`, the
 * paper's setting: resnet20 for a resnet56 target) and truncated training (`proxyEpochs`,
 * fewer epochs than the selector schedule). Either, both, or neither (then the proxy is the
 * target architecture on the selector schedule: standard active learning).
 */
const svpEntry = fields({
  name: z.literal('svp'),
  ...narrowSweep,
  /** The proxy architecture; default: the target's. */
  proxyArch: oneOrMany(architectureName).optional(),
  /** The proxy's epochs; default: the selector schedule's. */
  proxyEpochs: oneOrMany(positiveInt).optional(),
  /** The proxy's schedule otherwise: selectorTraining with these overrides (epochs: proxyEpochs). */
  proxyTraining: trainingOverrides
    .refine((overrides) => overrides.epochs === undefined, {
      error: "expected the proxy's epochs as the svp option proxyEpochs, not in proxyTraining",
    })
    .default({}),
});

const methodEntry = z.preprocess(
  // `- random` is shorthand for `- name: random`.
  (value) => (typeof value === 'string' ? { name: value } : value),
  z.discriminatedUnion(
    'name',
    [
      prunefuseEntry,
      svpEntry,
      fields({ name: z.literal('active-learning'), ...narrowSweep }),
      fields({ name: z.literal('random'), ...narrowSweep }),
      // full labels the whole split at once: it has no milestones to narrow.
      fields({ name: z.literal('full'), ...narrowSeeds }),
    ],
    expected(`a method: one of ${METHOD_NAMES.join(', ')}`),
  ),
);
export type MethodEntry = z.infer<typeof methodEntry>;

const dataset = z.preprocess(
  (value) => (typeof value === 'string' ? { name: value } : value),
  fields({
    name: oneOf(DATASET_NAMES),
    /** Where the dataset's files are; null: the data package's default location. */
    dataDir: z.string(expected('a folder')).nullable().default(null),
    /** Use only this many training / test examples of the seeded split; null for all. */
    trainSubset: positiveInt.nullable().default(null),
    testSubset: positiveInt.nullable().default(null),
    /**
     * Draws the subsets, the same for every run of the experiment, so that seeds vary the
     * method (initialisation, initial labelled set, batch order) and not the data.
     */
    dataSeed: integer.default(0),
  }),
);

export const experimentFileSchema = fields({
  /** Names the experiment (MLflow experiment, default store results/<experiment>); default: the file's stem. */
  experiment: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, expected('a name of letters, digits, ".", "_" or "-"'))
    .optional(),
  description: z.string(expected('text')).optional(),
  dataset,
  /** The target architecture θ. */
  arch: oneOrMany(architectureName),
  methods: z
    .array(methodEntry, expected('a list of methods'))
    .min(1, expected('at least one method')),
  acquisition: oneOrMany(oneOf(ACQUISITION_NAMES)).default(['least-confidence']),
  budget: fields({
    /** Size of the initial labelled set s0. */
    initial: quantity,
    /** Labelled-set sizes at which the target is built and measured, ascending. */
    milestones: oneOrMany(quantity),
    /** Examples labelled per selection round. */
    roundSize: quantity,
    classBalancedInitial: boolean.default(false),
  }),
  /** Shared by selector and target; each may override below. Defaults: TRAINING_DEFAULTS. */
  training: trainingOverrides.default({}),
  selectorTraining: trainingOverrides.default({}),
  targetTraining: trainingOverrides.default({}),
  rankAgreement: boolean.default(false),
  /** After the sweep, write the HTML report of the whole store to <store>/report/index.html. */
  report: boolean.default(true),
  seeds: oneOrMany(integer).default([0]),
  backend: oneOf(BACKEND_CHOICES).default('auto'),
});
export type ExperimentFile = z.infer<typeof experimentFileSchema>;
