import { architecture, countMacs, type InputShape } from '@prunefuse/models';
import { prunedSpec } from '@prunefuse/prunefuse';
import type { MacsByPhase, RunConfig } from '@prunefuse/results';
import type { RunPlan } from './plan.js';

/**
 * Forward MACs of one example through `arch`, pruned by ratio `prune` (null: dense), for
 * a dataset's input and class count. The models package counts them from the spec.
 */
export type ForwardMacs = (
  arch: string,
  prune: number | null,
  dataset: { input: InputShape; classes: number },
) => number;

/** ForwardMacs counted from the architecture's spec, pruned as PruneFuse prunes it. */
export const countForwardMacs: ForwardMacs = (arch, prune, dataset) => {
  const dense = architecture(arch, dataset);
  return countMacs(prune === null ? dense : prunedSpec(dense, prune));
};

/**
 * Estimated MACs of a run by phase. A training step costs about three forward passes
 * (forward, gradient of the input, gradient of the weights), so training is
 * epochs x examples x 3 x forward MACs; distillation adds a teacher forward per example;
 * scoring the pool is one forward per unlabelled example. Evaluation on the test split
 * and the rank-agreement measurement are not counted.
 */
export function estimateMacs(
  config: RunConfig,
  plan: RunPlan,
  dataset: { input: InputShape; classes: number },
  forwardMacs: ForwardMacs,
): MacsByPhase {
  const { method } = config;
  const target = forwardMacs(config.arch, null, dataset);
  const selector =
    method.name === 'prunefuse'
      ? forwardMacs(config.arch, method.prune, dataset)
      : method.name === 'svp'
        ? forwardMacs(method.proxyArch, null, dataset)
        : target;
  const selectorTraining = plan.selectorTrainings.reduce(
    (total, phase) => total + phase.epochs * phase.labelled * 3 * selector,
    0,
  );
  const poolScoring = plan.poolScorings.reduce(
    (total, phase) => total + phase.unlabelled * selector,
    0,
  );
  const targetTraining = plan.targetTrainings.reduce(
    (total, phase) =>
      total + phase.epochs * phase.labelled * (3 * target + (phase.distilled ? selector : 0)),
    0,
  );
  return {
    selectorTraining,
    poolScoring,
    targetTraining,
    total: selectorTraining + poolScoring + targetTraining,
  };
}
