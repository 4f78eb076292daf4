import type { EpochRecord } from '@prunefuse/results';

/** How many standard deviations above chance a test accuracy must lie to show learning. */
const CHANCE_SIGMAS = 3;

export interface TrainedTarget {
  /** Test accuracy, 0..1. */
  accuracy: number;
  epochs: readonly EpochRecord[];
}

/**
 * Why a trained target is a broken model although its loss stayed finite (training that
 * blew up into NaN is stopped by trainNetwork), or null for a target that learned. Two
 * signs, either suffices:
 *
 * - Its training loss ended above where it started: the mean loss of the last epoch
 *   exceeds the first epoch's. The first epoch's mean is the earliest loss the loop
 *   measures (the loss of the untrained network is not evaluated), and training that
 *   works lowers it, from scratch or fine-tuning; one epoch has nothing to compare.
 * - Its test accuracy is at chance: at most p + 3σ, where p = 1/classes is the accuracy
 *   of guessing and σ = sqrt(p(1 - p) / n) the standard deviation of a guesser's accuracy
 *   over n test examples. A model that guesses exceeds p + 3σ with probability about
 *   0.1% (normal approximation), so a target below it has shown no learning on this test
 *   split; the margin widens for small test subsets, where chance alone spreads widely
 *   (n = 2000, 10 classes: 12.01%; n = 100: 19.00%). The splits are balanced, so a model
 *   that always answers one class scores p as well.
 *
 * Example (issue 16): learning rate 5 gave test loss 520 and 10% accuracy on MNIST, and
 * was recorded as a success.
 */
export function divergence(
  target: TrainedTarget,
  test: { classes: number; size: number },
): { reason: string } | null {
  const reasons: string[] = [];
  const first = target.epochs[0]?.trainLoss;
  const last = target.epochs.at(-1)?.trainLoss;
  if (target.epochs.length >= 2 && first !== undefined && last !== undefined && last > first) {
    reasons.push(
      `the training loss rose from ${round(first)} (first epoch) to ${round(last)} (last epoch)`,
    );
  }
  const chance = 1 / test.classes;
  const threshold = chance + CHANCE_SIGMAS * Math.sqrt((chance * (1 - chance)) / test.size);
  if (target.accuracy <= threshold) {
    reasons.push(
      `test accuracy ${percent(target.accuracy)} is at chance (at most ${percent(threshold)}: ` +
        `1/${test.classes} plus ${CHANCE_SIGMAS} standard deviations of guessing over ${test.size} test examples)`,
    );
  }
  return reasons.length > 0 ? { reason: reasons.join('; ') } : null;
}

function round(value: number): string {
  return value.toPrecision(4);
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}
