import type { ResultsStore } from '@prunefuse/results';

/** What the checkpoints of an unfinished run hold for its next attempt. */
export interface SavedProgress {
  /** Targets built (see @prunefuse/results run-checkpoint); the next attempt replays them. */
  targets: number;
  /** The training it was in, saved after its last finished epoch; null when none. */
  training: { network: string; epochs: number } | null;
}

/** What run `id`'s checkpoints hold; nothing for a store without them. */
export function savedProgress(store: ResultsStore | null, id: string): SavedProgress {
  const targets = store?.readCheckpoint(id);
  const training = store?.readTrainingSummary(id);
  return {
    targets: targets?.state === 'saved' ? targets.checkpoint.targets.length : 0,
    training:
      training?.state === 'saved'
        ? {
            // The key is '<which network>/<labelled-set digest>' (the loop's trainingCheckpoint).
            network: training.summary.key.split('/')[0]!,
            epochs: training.summary.epochs,
          }
        : null,
  };
}

/** `2/4 targets saved, target training after epoch 8`; empty when nothing is saved. */
export function describeSaved(saved: SavedProgress, milestones: number): string {
  return [
    ...(saved.targets > 0 ? [`${saved.targets}/${milestones} targets saved`] : []),
    ...(saved.training
      ? [`${saved.training.network} training after epoch ${saved.training.epochs}`]
      : []),
  ].join(', ');
}
