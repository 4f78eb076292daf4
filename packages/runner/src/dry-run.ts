import { type MacsByPhase, methodOptions, type ResultsStore } from '@prunefuse/results';
import type { DescribeDataset, ExpandedRun } from './config/expand.js';
import { estimateMacs, type ForwardMacs } from './macs-estimate.js';

/** damaged: runs/ holds a record that cannot be read; `run` moves it aside and computes the run again. */
export type RunStatus = 'finished' | 'damaged' | 'failed' | 'pending';

/** One line of `run --dry-run`. */
export interface DryRunRow {
  id: string;
  method: string;
  options: string;
  arch: string;
  acquisition: string;
  seed: number;
  /** Labelled-set sizes at which the target is measured. */
  milestones: number[];
  status: RunStatus;
  /**
   * Targets an interrupted attempt saved to the run's checkpoint (see @prunefuse/results
   * run-checkpoint): the next attempt replays them. 0 for finished runs and runs without one.
   */
  savedTargets: number;
  /** The training an interrupted attempt was in, saved after its last finished epoch; null when none. */
  savedTraining: { training: string; epochs: number } | null;
  estimatedMacs: MacsByPhase;
}

/** The expanded runs with their estimated compute and, when the store exists, their status. */
export function dryRunRows(
  runs: readonly ExpandedRun[],
  store: ResultsStore | null,
  describeDataset: DescribeDataset,
  forwardMacs: ForwardMacs,
): DryRunRow[] {
  const failed = new Set(store?.failures().map((f) => f.id) ?? []);
  return runs.map(({ id, config, trainSize }) => {
    const facts = describeDataset(config.dataset.name);
    const status = runStatus(store, id, failed);
    return {
      id,
      method: config.method.name,
      options: methodOptions(config).join(' '),
      arch: config.arch,
      acquisition: config.acquisition,
      seed: config.seed,
      milestones: config.budget.milestones,
      status,
      savedTargets: status === 'finished' ? 0 : savedTargets(store, id),
      savedTraining: status === 'finished' ? null : savedTraining(store, id),
      estimatedMacs: estimateMacs(config, trainSize, facts, forwardMacs),
    };
  });
}

function runStatus(store: ResultsStore | null, id: string, failed: ReadonlySet<string>): RunStatus {
  const state = store?.inspect(id).state ?? 'absent';
  if (state !== 'absent') return state;
  return failed.has(id) ? 'failed' : 'pending';
}

function savedTargets(store: ResultsStore | null, id: string): number {
  const found = store?.readCheckpoint(id);
  return found?.state === 'saved' ? found.checkpoint.targets.length : 0;
}

function savedTraining(store: ResultsStore | null, id: string): DryRunRow['savedTraining'] {
  const found = store?.readTrainingCheckpoint(id);
  if (found?.state !== 'saved') return null;
  // The key is '<which network>/<labelled-set digest>' (see the loop's trainingCheckpoint).
  return { training: found.training.key.split('/')[0]!, epochs: found.training.epochs.length };
}

/**
 * The status column, with what an interrupted attempt saved:
 * `pending (2/4 targets saved, target training after epoch 8)`.
 */
export function describeStatus(
  row: Pick<DryRunRow, 'status' | 'savedTargets' | 'savedTraining' | 'milestones'>,
): string {
  const saved = [
    ...(row.savedTargets > 0 ? [`${row.savedTargets}/${row.milestones.length} targets saved`] : []),
    ...(row.savedTraining
      ? [`${row.savedTraining.training} training after epoch ${row.savedTraining.epochs}`]
      : []),
  ];
  return saved.length === 0 ? row.status : `${row.status} (${saved.join(', ')})`;
}

/** A MAC count for people: 1.23 T, 45.6 G. */
export function formatMacs(macs: number): string {
  const units = ['', ' k', ' M', ' G', ' T', ' P', ' E'];
  let value = macs;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toPrecision(3)}${units[unit]}`;
}
