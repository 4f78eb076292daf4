import { labelledSizes, planRun, type RunPlan } from './cost-model.js';
import type { RunConfig } from './record.js';
import { outlineExtends, type PhaseOutline } from './selection-phase.js';

/**
 * What is already done of a run before it starts: the selection phase stored for its
 * selection id (by a finished run, an earlier run of the same sweep, or its own
 * interrupted attempt), and what its interrupted attempt checkpointed.
 */
export interface DoneBeforeStart {
  phase: PhaseOutline | null;
  /** Targets saved in its checkpoint, replayed in milestone order. */
  targets: number;
  /**
   * The training it saved: which network ('selector', 'target', 'rank-agreement'), on how
   * many labelled examples (null: not known), after how many epochs.
   */
  training: { network: string; labelled: number | null; epochs: number } | null;
}

export const NOTHING_DONE: DoneBeforeStart = { phase: null, targets: 0, training: null };

/**
 * The part of a run's plan that it will still compute, given what is done: its plan
 * (planRun) less the selectors and rounds it will replay from the stored phase, the targets
 * its checkpoint holds, and the epochs saved of the training it was in. planMacs of it is
 * the compute still to do, where planMacs of planRun is what the run is charged.
 *
 * A selector or round is replayed as SelectionMemo replays them: while every round so far
 * labelled, from the same labelled-set size, as many examples as the stored round did.
 * Saved targets and training epochs are taken to resume: the loop redoes them only on
 * another backend or device, or where the labelled set differs (a code change that alters
 * the selection), which an estimate from the config cannot know.
 */
export function planLeft(config: RunConfig, trainSize: number, done: DoneBeforeStart): RunPlan {
  const plan = planRun(config, trainSize);
  const followed = done.phase === null ? 0 : roundsFollowing(config, done.phase);
  // A selector is asked for before the round that selects with it: the one on the size
  // where the run leaves the stored rounds is still replayed.
  const replayedSelectors = new Set(
    labelledSizes(config)
      .slice(0, followed + 1)
      .filter((size) => done.phase?.selectors.includes(size)),
  );
  const selectorTrainings = plan.selectorTrainings.filter(
    ({ labelled }) => !replayedSelectors.has(labelled),
  );
  const selections = plan.selections.slice(followed);
  const targetTrainings = plan.targetTrainings.slice(done.targets);
  const { training } = done;
  const inProgress =
    training?.network === 'selector'
      ? selectorTrainings
      : training?.network === 'target'
        ? targetTrainings
        : [];
  const resumed = inProgress.findIndex(({ labelled }) => labelled === training?.labelled);
  if (training && resumed >= 0) {
    const phase = inProgress[resumed]!;
    inProgress[resumed] = { ...phase, epochs: Math.max(0, phase.epochs - training.epochs) };
  }
  return { selectorTrainings, selections, targetTrainings };
}

/**
 * The phase stored for a run's selection id once it has run after `stored`: its own (the
 * rounds and selectors it replayed included) where that extends the stored one, as
 * SelectionPhaseStore.offer decides, else `stored`; `stored` for a run without a selector.
 */
export function phaseAfterRun(
  config: RunConfig,
  trainSize: number,
  stored: PhaseOutline | null,
): PhaseOutline | null {
  const plan = planRun(config, trainSize);
  if (plan.selectorTrainings.length === 0) return stored;
  const own: PhaseOutline = {
    rounds: plannedRounds(config),
    selectors: plan.selectorTrainings.map(({ labelled }) => labelled),
  };
  return stored === null || outlineExtends(own, stored) ? own : stored;
}

/** The rounds a run's config makes: from each labelled-set size to the next. */
function plannedRounds(config: RunConfig): PhaseOutline['rounds'] {
  const sizes = labelledSizes(config);
  return sizes
    .slice(0, -1)
    .map((labelled, i) => ({ labelled, selected: sizes[i + 1]! - labelled }));
}

/** How many of the run's first rounds are the stored phase's (and are replayed). */
function roundsFollowing(config: RunConfig, phase: PhaseOutline): number {
  const rounds = plannedRounds(config);
  const differs = rounds.findIndex(
    (round, i) =>
      phase.rounds[i]?.labelled !== round.labelled || phase.rounds[i]?.selected !== round.selected,
  );
  return differs < 0 ? rounds.length : differs;
}
