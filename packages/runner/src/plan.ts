import type { RunConfig } from '@prunefuse/results';

/**
 * What a run will train and score, derived from its config alone: the basis of the
 * compute estimate of --dry-run and of progress totals and ETAs. The executed run's
 * record holds what actually happened.
 *
 * Labelled-set sizes grow from the initial set by roundSize, stopping at every
 * milestone. The selector is trained on each size and scores the unlabelled pool to pick
 * the next; at every milestone the target is built. PruneFuse also trains θp on the
 * last milestone's set, since the target fuses it (and distils from it). Random selects
 * without a model; full trains the target once on the whole split.
 */
export interface RunPlan {
  selectorTrainings: Array<{ labelled: number; epochs: number }>;
  poolScorings: Array<{ unlabelled: number }>;
  targetTrainings: Array<{ labelled: number; epochs: number; distilled: boolean }>;
}

export function planRun(config: RunConfig, trainSize: number): RunPlan {
  const { method } = config;
  const sizes = labelledSizes(config);
  const targetTrainings = config.budget.milestones.map((labelled) => ({
    labelled,
    epochs: config.targetTraining.epochs,
    distilled: method.name === 'prunefuse' && method.kd,
  }));
  if (method.name === 'random' || method.name === 'full') {
    return { selectorTrainings: [], poolScorings: [], targetTrainings };
  }
  const selecting = sizes.slice(0, -1);
  const trained = method.name === 'prunefuse' ? sizes : selecting;
  const epochs =
    method.name === 'svp' ? method.proxyTraining.epochs : config.selectorTraining.epochs;
  return {
    selectorTrainings: trained.map((labelled) => ({ labelled, epochs })),
    poolScorings: selecting.map((labelled) => ({ unlabelled: trainSize - labelled })),
    targetTrainings,
  };
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

export function plannedEpochs(plan: RunPlan): number {
  const sum = (phases: Array<{ epochs: number }>) =>
    phases.reduce((total, p) => total + p.epochs, 0);
  return sum(plan.selectorTrainings) + sum(plan.targetTrainings);
}
