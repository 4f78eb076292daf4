import { labelledSizes, planRun, type RunPlan } from './cost-model.js';
import type { RunConfig } from './record.js';
import type { PhaseOutline } from './selection-phase.js';

/**
 * What is already done of a run before it starts: the selection phase stored for its
 * selection id (by a finished run, an earlier run of the same sweep, or its own
 * interrupted attempt), and what its interrupted attempt checkpointed.
 */
export interface DoneBeforeStart {
  phase: PhaseOutline | null;
  /** Targets saved in its checkpoint, replayed in milestone order. */
  targets: number;
  /** The training it was in ('selector', 'target' or 'rank-agreement') and the epochs saved. */
  training: { network: string; epochs: number } | null;
}

export const NOTHING_DONE: DoneBeforeStart = { phase: null, targets: 0, training: null };

/**
 * The part of a run's plan that it will still compute, given what is done: its plan
 * (planRun) less the selectors and rounds it will replay from the stored phase, the targets
 * its checkpoint holds, and the epochs saved of the training it was in. planMacs of it is
 * the compute still to do, where planMacs of planRun is what the run is charged.
 *
 * A selector or round is replayed as SelectionMemo replays them: while every round so far
 * labelled, from the same labelled-set size, as many examples as the stored round did. A
 * saved target is taken to be replayed: the loop retrains it only when its labelled set
 * differs (a code change that alters the selection), which an estimate cannot know.
 */
export function planLeft(config: RunConfig, trainSize: number, done: DoneBeforeStart): RunPlan {
  const plan = planRun(config, trainSize);
  const selectorTrainings = plan.selectorTrainings.filter(
    ({ labelled }) => !replayedSelectors(config, done.phase).has(labelled),
  );
  const selections = plan.selections.filter((_, round) => round >= replayedRounds(config, done));
  const targetTrainings = plan.targetTrainings.slice(done.targets);
  const { training } = done;
  const inProgress =
    training?.network === 'selector'
      ? selectorTrainings
      : training?.network === 'target'
        ? targetTrainings
        : [];
  if (training && inProgress[0]) {
    inProgress[0] = {
      ...inProgress[0],
      epochs: Math.max(0, inProgress[0].epochs - training.epochs),
    };
  }
  return { selectorTrainings, selections, targetTrainings };
}

/**
 * The phase stored for a run's selection id once it has run after `stored`: its own (the
 * rounds and selectors it replayed included) where that extends the stored one, as
 * SelectionPhaseStore.offer decides; null for a run without a selector.
 */
export function phaseAfterRun(
  config: RunConfig,
  trainSize: number,
  stored: PhaseOutline | null,
): PhaseOutline | null {
  const plan = planRun(config, trainSize);
  if (plan.selections.length === 0) return stored;
  const sizes = labelledSizes(config);
  const own: PhaseOutline = {
    rounds: plan.selections.map((_, round) => ({
      labelled: sizes[round]!,
      selected: sizes[round + 1]! - sizes[round]!,
    })),
    selectors: plan.selectorTrainings.map(({ labelled }) => labelled),
  };
  if (stored === null) return own;
  const roundsExtend =
    own.rounds.length >= stored.rounds.length &&
    stored.rounds.every(
      (round, i) =>
        round.labelled === own.rounds[i]!.labelled && round.selected === own.rounds[i]!.selected,
    );
  const selectorsInclude = stored.selectors.every((size) => own.selectors.includes(size));
  const more =
    own.rounds.length > stored.rounds.length || own.selectors.length > stored.selectors.length;
  return roundsExtend && selectorsInclude && more ? own : stored;
}

/** How many of the run's first rounds follow the stored phase (and are replayed). */
function replayedRounds(config: RunConfig, done: DoneBeforeStart): number {
  const { phase } = done;
  if (phase === null) return 0;
  const sizes = labelledSizes(config);
  let round = 0;
  while (
    round < sizes.length - 1 &&
    phase.rounds[round]?.labelled === sizes[round] &&
    phase.rounds[round]?.selected === sizes[round + 1]! - sizes[round]!
  ) {
    round++;
  }
  return round;
}

/**
 * Labelled-set sizes whose selector the run replays: stored ones it asks for while still
 * on the stored path. At a size the selector is asked for before the round that selects
 * from it, so the path counts the rounds up to that size only.
 */
function replayedSelectors(config: RunConfig, phase: PhaseOutline | null): Set<number> {
  if (phase === null) return new Set();
  const sizes = labelledSizes(config);
  const onPath = replayedRounds(config, { ...NOTHING_DONE, phase });
  return new Set(sizes.slice(0, onPath + 1).filter((size) => phase.selectors.includes(size)));
}
