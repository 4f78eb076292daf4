import { resolveBudget } from '@prunefuse/data';
import type { InputShape } from '@prunefuse/models';
import {
  type AcquisitionName,
  type BudgetConfig,
  type MethodConfig,
  PRUNEFUSE_DEFAULTS,
  type RunConfig,
  type TrainingConfig,
} from '@prunefuse/results';
import { runId } from '../run-id.js';
import type { LoadedExperiment } from './load.js';
import {
  type ExperimentFile,
  type MethodEntry,
  type Quantity,
  TRAINING_DEFAULTS,
  type TrainingOverrides,
} from './schema.js';
import { ConfigError, type ConfigSource } from './source.js';

/** What the runner needs to know about a dataset (the data package supplies it). */
export interface DatasetFacts {
  trainSize: number;
  testSize: number;
  input: InputShape;
  classes: number;
}
/** Facts about a dataset by name; an unknown name throws naming it. */
export type DescribeDataset = (name: string) => DatasetFacts;

/** One point of a sweep: its resolved config, id, and the size of its training split. */
export interface ExpandedRun {
  id: string;
  config: RunConfig;
  trainSize: number;
}

export interface Sweep {
  experiment: string;
  file: string;
  /** In sweep order (arch, method entry, method options, acquisition, seed), without duplicates. */
  runs: ExpandedRun[];
  /** Points that resolved to a run already in the sweep (see normalisation below). */
  duplicates: number;
}

/**
 * Expands an experiment file into its runs. Lists multiply (the cartesian product, in
 * the order of the file); budgets written as fractions or percentages resolve against
 * the training split (the subset when one is set), as the data package resolves them. Normalisation, so that points which compute the
 * same thing get the same id and run once:
 * - random and full do not use an acquisition function: theirs is 'random';
 * - full labels the whole split at once: initial = milestones = roundSize = train size;
 * - prunefuse without KD ignores kdLambda and kdTemperature, without fusion ignores
 *   fill: they take their defaults.
 * A method entry's own seeds and milestones, when given, replace the file's for its runs.
 */
export function expandSweep(loaded: LoadedExperiment, describeDataset: DescribeDataset): Sweep {
  const { file, source, name } = loaded;
  const problems: string[] = [];
  const facts = describeDataset(file.dataset.name);
  checkSubset(
    source,
    problems,
    'trainSubset',
    file.dataset.trainSubset,
    facts.trainSize,
    'training',
  );
  checkSubset(source, problems, 'testSubset', file.dataset.testSubset, facts.testSize, 'test');
  const trainSize = Math.min(file.dataset.trainSubset ?? facts.trainSize, facts.trainSize);
  const budget = resolveBudgetConfig(source, problems, file.budget, trainSize);
  if (problems.length > 0 || budget === null) throw new ConfigError(source.file, problems);
  // A method entry may build its targets at milestones of its own (the rounds are the file's).
  const entryBudgets = file.methods.map((entry, i): BudgetConfig => {
    if (!('milestones' in entry) || entry.milestones === undefined) return budget;
    const context = { source, problems, trainSize, initial: budget.initial };
    const milestones = resolveMilestones(context, entry.milestones, ['methods', i, 'milestones']);
    return { ...budget, milestones: milestones ?? [] };
  });
  if (problems.length > 0) throw new ConfigError(source.file, problems);

  const selectorTraining = training(file.training, file.selectorTraining);
  const targetTraining = training(file.training, file.targetTraining);
  const runs = new Map<string, ExpandedRun>();
  let points = 0;
  for (const arch of file.arch) {
    for (const [index, entry] of file.methods.entries()) {
      for (const method of methodVariants(entry, { arch, selectorTraining })) {
        for (const acquisition of file.acquisition) {
          for (const seed of entry.seeds ?? file.seeds) {
            points++;
            const config: RunConfig = {
              experiment: name,
              dataset: { ...file.dataset },
              arch,
              method,
              acquisition: acquisitionOf(method, acquisition),
              budget: method.name === 'full' ? wholeSplit(trainSize) : entryBudgets[index]!,
              selectorTraining,
              targetTraining,
              rankAgreement: file.rankAgreement,
              seed,
              backend: file.backend,
            };
            const id = runId(config);
            if (!runs.has(id)) runs.set(id, { id, config, trainSize });
          }
        }
      }
    }
  }
  return {
    experiment: name,
    file: source.file,
    runs: [...runs.values()],
    duplicates: points - runs.size,
  };
}

function checkSubset(
  source: ConfigSource,
  problems: string[],
  field: 'trainSubset' | 'testSubset',
  subset: number | null,
  available: number,
  split: string,
): void {
  if (subset !== null && subset > available) {
    problems.push(
      source.mismatch(
        ['dataset', field],
        `expected at most the ${available} examples of the ${split} split`,
      ),
    );
  }
}

function resolveBudgetConfig(
  source: ConfigSource,
  problems: string[],
  budget: ExperimentFile['budget'],
  trainSize: number,
): BudgetConfig | null {
  const before = problems.length;
  const resolve = quantityResolver(source, problems, trainSize);
  const initial = resolve(budget.initial, ['budget', 'initial']);
  const roundSize = resolve(budget.roundSize, ['budget', 'roundSize']);
  if (problems.length > before) return null;
  const milestones = resolveMilestones(
    { source, problems, trainSize, initial },
    budget.milestones,
    ['budget', 'milestones'],
  );
  if (milestones === null) return null;
  return { initial, milestones, roundSize, classBalancedInitial: budget.classBalancedInitial };
}

/** Resolves a quantity against the training split; a problem (at `path`) resolves to 0. */
function quantityResolver(source: ConfigSource, problems: string[], trainSize: number) {
  return (quantity: Quantity, path: Array<string | number>): number => {
    try {
      return resolveBudget(quantity, trainSize);
    } catch (error) {
      problems.push(source.problem(path, (error as Error).message));
      return 0;
    }
  };
}

interface MilestoneContext {
  source: ConfigSource;
  problems: string[];
  trainSize: number;
  /** The initial labelled set, which the first milestone may not undercut. */
  initial: number;
}

/** Milestones written at `path`, resolved and checked ascending from the initial set; null on a problem. */
function resolveMilestones(
  { source, problems, trainSize, initial }: MilestoneContext,
  written: readonly Quantity[],
  path: Array<string | number>,
): number[] | null {
  const before = problems.length;
  const resolve = quantityResolver(source, problems, trainSize);
  const milestones = written.map((m, i) => resolve(m, [...path, i]));
  if (problems.length > before) return null;
  for (const [i, milestone] of milestones.entries()) {
    const previous = i === 0 ? initial : milestones[i - 1]!;
    const ok = i === 0 ? milestone >= previous : milestone > previous;
    if (!ok) {
      const quantity = written[i]!;
      const got =
        typeof quantity === 'string' ? `'${quantity}' (${milestone} examples)` : String(quantity);
      const expectation =
        i === 0
          ? `expected at least the initial labelled set (${initial} examples)`
          : `expected more than the milestone before it (${previous} examples)`;
      problems.push(source.mismatch([...path, i], expectation, got));
    }
  }
  return problems.length > before ? null : milestones;
}

function wholeSplit(trainSize: number): BudgetConfig {
  return {
    initial: trainSize,
    milestones: [trainSize],
    roundSize: trainSize,
    classBalancedInitial: false,
  };
}

function acquisitionOf(method: MethodConfig, acquisition: AcquisitionName): AcquisitionName {
  return method.name === 'random' || method.name === 'full' ? 'random' : acquisition;
}

function training(...layers: TrainingOverrides[]): TrainingConfig {
  const merged: TrainingConfig = { ...TRAINING_DEFAULTS };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

function methodVariants(
  entry: MethodEntry,
  target: { arch: string; selectorTraining: TrainingConfig },
): MethodConfig[] {
  switch (entry.name) {
    case 'prunefuse':
      return product({
        prune: entry.prune,
        criterion: entry.criterion,
        fusion: entry.fusion,
        kd: entry.kd,
        fill: entry.fill,
        kdLambda: entry.kdLambda,
        kdTemperature: entry.kdTemperature,
      }).map((options) => ({
        name: 'prunefuse',
        ...options,
        fill: options.fusion ? options.fill : PRUNEFUSE_DEFAULTS.fill,
        kdLambda: options.kd ? options.kdLambda : PRUNEFUSE_DEFAULTS.kdLambda,
        kdTemperature: options.kd ? options.kdTemperature : PRUNEFUSE_DEFAULTS.kdTemperature,
      }));
    case 'svp': {
      const base = training(target.selectorTraining, entry.proxyTraining);
      return product({
        proxyArch: entry.proxyArch ?? [target.arch],
        epochs: entry.proxyEpochs ?? [base.epochs],
      }).map(({ proxyArch, epochs }) => ({
        name: 'svp',
        proxyArch,
        proxyTraining: { ...base, epochs },
      }));
    }
    default:
      return [{ name: entry.name }];
  }
}

/** The cartesian product of named lists; the first list varies slowest. */
function product<T extends Record<string, readonly unknown[]>>(
  lists: T,
): Array<{ [K in keyof T]: T[K][number] }> {
  let combos: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(lists)) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  return combos as Array<{ [K in keyof T]: T[K][number] }>;
}
