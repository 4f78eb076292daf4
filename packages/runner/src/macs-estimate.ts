import { architecture, countMacs, type InputShape } from '@prunefuse/models';
import { prunedSpec } from '@prunefuse/prunefuse';
import {
  type ForwardCosts,
  type MacsByPhase,
  planMacs,
  planRun,
  type RunConfig,
} from '@prunefuse/results';

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

/** Forward MACs of the run's target and of the network that selects for it. */
export function forwardCosts(
  config: RunConfig,
  dataset: { input: InputShape; classes: number },
  forwardMacs: ForwardMacs,
): ForwardCosts {
  const { method } = config;
  const target = forwardMacs(config.arch, null, dataset);
  switch (method.name) {
    case 'prunefuse':
      return { target, selector: forwardMacs(config.arch, method.prune, dataset) };
    case 'svp':
      return { target, selector: forwardMacs(method.proxyArch, null, dataset) };
    case 'active-learning':
      return { target, selector: target };
    default:
      return { target, selector: null };
  }
}

/** The cost model's estimate of a run (see @prunefuse/results cost-model). */
export function estimateMacs(
  config: RunConfig,
  trainSize: number,
  dataset: { input: InputShape; classes: number },
  forwardMacs: ForwardMacs,
): MacsByPhase {
  return planMacs(planRun(config, trainSize), forwardCosts(config, dataset, forwardMacs));
}
