import { type MacsByPhase, methodOptions, planMacs, type ResultsStore } from '@prunefuse/results';
import type { DescribeDataset, ExpandedRun } from './config/expand.js';
import { estimateMacs, type ForwardMacs, forwardCosts } from './macs-estimate.js';
import { describeSaved, type SavedProgress, savedProgress } from './saved-progress.js';
import { plansLeft } from './work-left.js';

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
  /** What an interrupted attempt saved for the next one; nothing for finished runs. */
  saved: SavedProgress;
  /** What the run is charged (its record's macs, for a finished run). */
  estimatedMacs: MacsByPhase;
  /**
   * What it still computes here, given what is done before it starts: its interrupted
   * attempt's checkpoints, and the selection phase stored for it or stored first by an
   * earlier run of this list (see plansLeft). Nothing for a finished run.
   */
  macsToCompute: MacsByPhase;
}

/** The expanded runs with their estimated compute and, when the store exists, their status. */
export function dryRunRows(
  runs: readonly ExpandedRun[],
  store: ResultsStore | null,
  describeDataset: DescribeDataset,
  forwardMacs: ForwardMacs,
): DryRunRow[] {
  const failed = new Set(store?.failures().map((f) => f.id) ?? []);
  const statuses = runs.map(({ id }) => runStatus(store, id, failed));
  const left = plansLeft(
    runs.filter((_, i) => statuses[i] !== 'finished'),
    store,
  );
  return runs.map(({ id, config, trainSize }, i) => {
    const facts = describeDataset(config.dataset.name);
    const status = statuses[i]!;
    const work = left.get(id) ?? {
      saved: savedProgress(null, id),
      plan: { selectorTrainings: [], selections: [], targetTrainings: [] },
    };
    return {
      id,
      method: config.method.name,
      options: methodOptions(config).join(' '),
      arch: config.arch,
      acquisition: config.acquisition,
      seed: config.seed,
      milestones: config.budget.milestones,
      status,
      saved: work.saved,
      estimatedMacs: estimateMacs(config, trainSize, facts, forwardMacs),
      macsToCompute: planMacs(work.plan, forwardCosts(config, facts, forwardMacs)),
    };
  });
}

function runStatus(store: ResultsStore | null, id: string, failed: ReadonlySet<string>): RunStatus {
  const state = store?.inspect(id).state ?? 'absent';
  if (state !== 'absent') return state;
  return failed.has(id) ? 'failed' : 'pending';
}

/** The status column, with what an interrupted attempt saved: `pending (2/4 targets saved)`. */
export function describeStatus(row: Pick<DryRunRow, 'status' | 'saved' | 'milestones'>): string {
  const saved = describeSaved(row.saved, row.milestones.length);
  return saved === '' ? row.status : `${row.status} (${saved})`;
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
