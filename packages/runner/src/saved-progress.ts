import { parseTrainingKey, type ResultsStore, trainingKeyNetwork } from '@prunefuse/results';

/** What the checkpoints of an unfinished run hold for its next attempt. */
export interface SavedProgress {
  /** Targets built (see @prunefuse/results run-checkpoint); the next attempt replays them. */
  targets: number;
  /**
   * The training it was in, saved after its last finished epoch (or, killed between two
   * trainings, the last one that finished: it resumes only if that training is redone);
   * `labelled`: the size of the set it trains on, null for a key of an older format.
   */
  training: { network: string; labelled: number | null; epochs: number } | null;
}

/** What run `id`'s checkpoints hold; nothing for a store without them. */
export function savedProgress(store: ResultsStore | null, id: string): SavedProgress {
  const targets = store?.readCheckpoint(id);
  const training = store?.readTrainingSummary(id);
  return {
    targets: targets?.state === 'saved' ? targets.checkpoint.targets.length : 0,
    training:
      training?.state === 'saved'
        ? describeTraining(training.summary.key, training.summary.epochs)
        : null,
  };
}

/** The training a checkpoint's key names, as SavedProgress holds it (less its epochs). */
export function trainingOfKey(key: string): { network: string; labelled: number | null } {
  return { network: trainingKeyNetwork(key), labelled: parseTrainingKey(key)?.labelled ?? null };
}

function describeTraining(key: string, epochs: number): SavedProgress['training'] {
  return { ...trainingOfKey(key), epochs };
}

/** `target training on 3000 labelled`; without the size for a key of an older format. */
export function trainingPhrase(training: { network: string; labelled: number | null }): string {
  const on = training.labelled === null ? '' : ` on ${training.labelled} labelled`;
  return `${training.network} training${on}`;
}

/** `2/4 targets saved, target training on 3000 labelled after epoch 8`; empty when nothing is saved. */
export function describeSaved(saved: SavedProgress, milestones: number): string {
  return [
    ...(saved.targets > 0 ? [`${saved.targets}/${milestones} targets saved`] : []),
    ...(saved.training
      ? [`${trainingPhrase(saved.training)} after epoch ${saved.training.epochs}`]
      : []),
  ].join(', ');
}
