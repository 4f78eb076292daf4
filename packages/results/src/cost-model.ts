import type { MacsByPhase, RunConfig, RunRecord } from './record.js';

/**
 * The one cost model: what a run spends, in multiply-accumulates (MACs), phase by phase.
 * The loop charges what it spends with these formulas, `run --dry-run` estimates a config
 * with the same formulas over the planned phases (so a finished run's record equals its
 * estimate), and the report sums a record's phases per budget.
 *
 * Charged to a method: training its selector, the selector's forward passes that choose
 * (the unlabelled pool; for k-centres also the labelled set, whose embeddings are the
 * centres), and training its target (a KD teacher's forward pass per example included).
 * Not charged: test evaluation and the rank-agreement measurement, which the harness does
 * to measure, not to select.
 */

/** Backward costs about twice the forward pass: one product for activations, one for weights. */
export const TRAINING_MACS_PER_FORWARD = 3;

/** Training on `examples` examples (epochs x labelled), a teacher forward each under KD. */
export function trainingMacs(cost: {
  examples: number;
  forwardMacs: number;
  teacherForwardMacs?: number;
}): number {
  return (
    cost.examples * (TRAINING_MACS_PER_FORWARD * cost.forwardMacs + (cost.teacherForwardMacs ?? 0))
  );
}

/** Forward passes over `examples` examples (scoring, embeddings). */
export function inferenceMacs(cost: { examples: number; forwardMacs: number }): number {
  return cost.examples * cost.forwardMacs;
}

/** What a run will train and score, derived from its config alone. */
export interface RunPlan {
  selectorTrainings: Array<{ labelled: number; epochs: number }>;
  /** One per selection round: the unlabelled pool scored, and the labelled examples embedded (k-centres). */
  selections: Array<{ unlabelled: number; labelledEmbedded: number }>;
  targetTrainings: Array<{ labelled: number; epochs: number; distilled: boolean }>;
}

/**
 * The phases of a run. Labelled-set sizes grow from the initial set by roundSize, stopping
 * at every milestone. The selector is trained on each size it selects from; PruneFuse also
 * trains θp* on the last milestone's set when its target uses it (fusion or KD). Random
 * selects without a model; full trains the target once on the whole split.
 */
export function planRun(config: RunConfig, trainSize: number): RunPlan {
  const { method } = config;
  const sizes = labelledSizes(config);
  const distilled = method.name === 'prunefuse' && method.kd;
  const targetTrainings = config.budget.milestones.map((labelled) => ({
    labelled,
    epochs: config.targetTraining.epochs,
    distilled,
  }));
  if (method.name === 'random' || method.name === 'full') {
    return { selectorTrainings: [], selections: [], targetTrainings };
  }
  const selecting = sizes.slice(0, -1);
  const targetUsesSelector = method.name === 'prunefuse' && (method.fusion || method.kd);
  const trained = targetUsesSelector ? sizes : selecting;
  const epochs = selectorEpochs(config);
  const embeds = config.acquisition === 'k-centers';
  return {
    selectorTrainings: trained.map((labelled) => ({ labelled, epochs })),
    selections: selecting.map((labelled) => ({
      unlabelled: trainSize - labelled,
      labelledEmbedded: embeds ? labelled : 0,
    })),
    targetTrainings,
  };
}

/** Epochs of the selector's schedule: the proxy's own for SVP. */
function selectorEpochs(config: RunConfig): number {
  return config.method.name === 'svp'
    ? config.method.proxyTraining.epochs
    : config.selectorTraining.epochs;
}

/** Labelled-set sizes from the initial set to the last milestone. */
export function labelledSizes(config: RunConfig): number[] {
  const { initial, milestones, roundSize } = config.budget;
  const last = milestones[milestones.length - 1] ?? initial;
  const sizes = [initial];
  let current = initial;
  while (current < last) {
    const nextMilestone = milestones.find((m) => m > current) ?? last;
    current = Math.min(current + roundSize, nextMilestone);
    sizes.push(current);
  }
  return sizes;
}

/**
 * Examples a plan trains on, epochs x labelled-set size summed over its trainings: the
 * unit of progress, since an epoch on 5,000 examples takes five times one on 1,000.
 */
export function plannedExamples(plan: RunPlan): number {
  const sum = (phases: Array<{ epochs: number; labelled: number }>) =>
    phases.reduce((total, p) => total + p.epochs * p.labelled, 0);
  return sum(plan.selectorTrainings) + sum(plan.targetTrainings);
}

/** Forward MACs of one example through the run's target and its selector (null: none). */
export interface ForwardCosts {
  target: number;
  selector: number | null;
}

/** The MACs a plan spends by phase, from the forward cost of its networks. */
export function planMacs(plan: RunPlan, forward: ForwardCosts): MacsByPhase {
  const selector = forward.selector ?? 0;
  const selectorTraining = plan.selectorTrainings.reduce(
    (total, phase) =>
      total + trainingMacs({ examples: phase.epochs * phase.labelled, forwardMacs: selector }),
    0,
  );
  const poolScoring = plan.selections.reduce(
    (total, phase) =>
      total +
      inferenceMacs({ examples: phase.unlabelled + phase.labelledEmbedded, forwardMacs: selector }),
    0,
  );
  const targetTraining = plan.targetTrainings.reduce(
    (total, phase) =>
      total +
      trainingMacs({
        examples: phase.epochs * phase.labelled,
        forwardMacs: forward.target,
        teacherForwardMacs: phase.distilled ? selector : 0,
      }),
    0,
  );
  return {
    selectorTraining,
    poolScoring,
    targetTraining,
    total: selectorTraining + poolScoring + targetTraining,
  };
}

/**
 * Selection compute a run spent to reach a budget of `labelled` examples: the rounds that
 * chose the examples (each one's selector training and selection forward passes, rounds
 * trained on fewer than `labelled`), plus the selector training that targets up to this
 * budget asked for (θp* trained on a milestone's set for PruneFuse's fusion, which the
 * next round then selects with, uncharged).
 */
export function selectionMacsUpTo(run: RunRecord, labelled: number): number {
  let macs = 0;
  for (const round of run.rounds) {
    if (round.labelled < labelled) macs += round.macs.selectorTraining + round.macs.poolScoring;
  }
  for (const target of run.targets) {
    if (target.labelled <= labelled) macs += target.selectorTrainingMacs;
  }
  return macs;
}
