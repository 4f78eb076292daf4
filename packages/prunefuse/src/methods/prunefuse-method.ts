import { makeBatch } from '@prunefuse/data';
import {
  type AsyncMethodFactory,
  type BuiltTarget,
  FrozenWeights,
  type MethodSetup,
} from '@prunefuse/loop';
import type { PruningCriterion as CriterionName, TrainingConfig } from '@prunefuse/results';
import { fuseInto } from '../fusion/fuse-into.js';
import { criterionByName } from '../pruning/criteria.js';
import { type PrunedNetwork, pruneAtInit } from '../pruning/prune-at-init.js';

export interface PruneFuseOptions {
  /** Fraction of channels removed per prunable group. */
  prune: number;
  criterion: CriterionName;
  /** false: the target is trained from θ's initialisation instead of the fused weights. */
  fusion: boolean;
  /** Distil from θp* while fine-tuning the target. */
  kd: boolean;
  /** Unpruned positions of θF: θ's own initial weights (the paper) or zeros. */
  fill: 'init' | 'zero';
  kdLambda: number;
  kdTemperature: number;
  /** θp's schedule each round. */
  selectorTraining: TrainingConfig;
}

/** Examples of s0 a gradient-based criterion scores on: enough for stable channel ranks. */
export const SNIP_BATCH_LIMIT = 256;

/**
 * PruneFuse: θp = pruneAtInit(θ, p) selects, retrained from its pruned initial weights
 * every round; at each milestone θp* is fused into θ and fine-tuned, distilling from θp*.
 */
export function pruneFuseMethod(options: PruneFuseOptions): AsyncMethodFactory {
  return async (setup) => {
    const pruned = await pruneDense(setup, options);
    const prunedInitial = FrozenWeights.of(pruned.network);
    pruned.network.dispose();
    return {
      name: 'prunefuse',
      selector: {
        spec: pruned.spec,
        training: options.selectorTraining,
        fresh: () => prunedInitial.network(),
      },
      async buildTarget(context): Promise<BuiltTarget> {
        // θp* is trained on the milestone's set only when the target uses it.
        const trainedPruned = options.fusion || options.kd ? await context.trainedSelector() : null;
        const network =
          trainedPruned && options.fusion
            ? await fuseInto(setup.dense, trainedPruned, pruned.map, { fill: options.fill })
            : context.freshTarget();
        try {
          const teacher =
            trainedPruned && options.kd
              ? {
                  network: trainedPruned,
                  lambda: options.kdLambda,
                  temperature: options.kdTemperature,
                }
              : undefined;
          const outcome = await context.train(network, { teacher });
          return {
            ...outcome,
            network,
            init: options.fusion ? 'fused' : 'scratch',
            kd: options.kd,
          };
        } catch (error) {
          network.dispose();
          throw error;
        }
      },
      dispose: () => prunedInitial.dispose(),
    };
  };
}

/** θp pruned from θ; a gradient-based criterion scores on a batch of s0. */
async function pruneDense(setup: MethodSetup, options: PruneFuseOptions): Promise<PrunedNetwork> {
  if (options.criterion !== 'snip') {
    return pruneAtInit(setup.dense, options.prune, criterionByName(options.criterion));
  }
  const indices = setup.initialLabelled.subarray(0, SNIP_BATCH_LIMIT);
  const batch = makeBatch(setup.dataset.train, indices, { dataset: setup.dataset, augment: false });
  try {
    return await pruneAtInit(setup.dense, options.prune, criterionByName('snip', batch));
  } finally {
    batch.x.dispose();
    batch.y.dispose();
  }
}
