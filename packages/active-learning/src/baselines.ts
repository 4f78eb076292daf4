import { FrozenWeights, type MethodFactory, scratchTarget } from '@prunefuse/loop';
import type { TrainingConfig } from '@prunefuse/results';

/**
 * Standard active learning: θ itself, retrained from its initial weights every round,
 * selects; the target is θ trained from scratch on the labelled set at each milestone.
 */
export function activeLearningMethod(options: { selectorTraining: TrainingConfig }): MethodFactory {
  return ({ dense }) => {
    const initial = FrozenWeights.of(dense);
    return {
      name: 'active-learning',
      selector: {
        spec: dense.spec,
        training: options.selectorTraining,
        fresh: () => initial.network(),
      },
      buildTarget: scratchTarget,
      dispose: () => initial.dispose(),
    };
  };
}

/** Random selection: no model scores the pool; the target is trained from scratch. */
export function randomMethod(): MethodFactory {
  return () => ({ name: 'random', selector: null, buildTarget: scratchTarget, dispose: () => {} });
}

/**
 * Full data, the upper bound: every training example is labelled from the start (the
 * run's budget says so), so no round selects and the target trains on everything.
 */
export function fullDataMethod(): MethodFactory {
  return () => ({ name: 'full', selector: null, buildTarget: scratchTarget, dispose: () => {} });
}
