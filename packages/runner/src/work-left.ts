import {
  NOTHING_DONE,
  type PhaseOutline,
  phaseAfterRun,
  planLeft,
  type ResultsStore,
  type RunPlan,
} from '@prunefuse/results';
import type { ExpandedRun } from './config/expand.js';
import { selectionId } from './run-id.js';
import { type SavedProgress, savedProgress } from './saved-progress.js';

/** What a run's interrupted attempt saved, and what the run still computes. */
export interface WorkLeft {
  saved: SavedProgress;
  plan: RunPlan;
}

/**
 * What each of `runs` still computes when a sweep executes them in this order (see
 * planLeft): each starts from its interrupted attempt's checkpoints and from the selection
 * phase stored for its selection id, by a finished run or by an earlier one of `runs`
 * (each stores its phase as it goes). A sweep that shares its store with others, or whose
 * runs fail, may compute more.
 */
export function plansLeft(
  runs: readonly ExpandedRun[],
  store: ResultsStore | null,
): Map<string, WorkLeft> {
  const phases = new Map<string, PhaseOutline | null>();
  const plans = new Map<string, WorkLeft>();
  for (const { id, config, trainSize } of runs) {
    const selection = selectionId(config);
    let phase: PhaseOutline | null = null;
    if (selection !== null) {
      if (!phases.has(selection))
        phases.set(selection, store?.selections.outline(selection) ?? null);
      phase = phases.get(selection)!;
      phases.set(selection, phaseAfterRun(config, trainSize, phase));
    }
    const saved = savedProgress(store, id);
    plans.set(id, {
      saved,
      plan: planLeft(config, trainSize, { ...NOTHING_DONE, ...saved, phase }),
    });
  }
  return plans;
}
