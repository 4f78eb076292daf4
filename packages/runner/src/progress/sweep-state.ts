import {
  describeRun,
  plannedExamples,
  planRun,
  type RunEvent,
  type RunPlan,
} from '@prunefuse/results';
import type { ExpandedRun } from '../config/expand.js';

export type RunOutcome = 'finished' | 'failed' | 'finished-elsewhere';

/** `took`: e.g. ' after 4m05s'; `detail`: why a run failed. */
export function describeOutcome(outcome: RunOutcome, took: string, detail?: string): string {
  if (outcome === 'finished') return `finished${took}`;
  if (outcome === 'failed') return `FAILED${took}${detail ? `: ${detail}` : ''}`;
  return 'finished by another sweep';
}

export interface PhaseState {
  phase: 'selector' | 'target';
  /**
   * What is trained, for people: 'θp*' where PruneFuse trains its pruned selector on a
   * milestone's set for that milestone's target (fusion, distillation), not for a round.
   */
  name: 'selector' | 'θp*' | 'target';
  labelled: number;
  /** Epochs done in this phase (1-based after the first epoch). */
  epoch: number;
  totalEpochs: number;
  startedAt: number;
}

export interface RunState {
  id: string;
  label: string;
  /** Position among the runs this sweep set out to do, 1-based. */
  ordinal: number;
  /** Training examples it will train on (epochs x labelled set), and those done. */
  plannedExamples: number;
  doneExamples: number;
  rounds: number;
  roundsDone: number;
  startedAt: number;
  phase: PhaseState | null;
  /** Milestones at which selector training is θp* for the target (PruneFuse with fusion or KD). */
  thetaPMilestones: ReadonlySet<number>;
}

/**
 * Where a sweep stands, for both progress displays. Work is counted in training examples
 * (an epoch on n labelled examples is n), planned from what each run still trains (see
 * plansLeft), so the ETA of a sweep moves with every epoch rather than with every finished
 * run, and a run's early epochs on small labelled sets do not promise an early end. ETAs
 * extrapolate the time spent so far linearly.
 */
export class SweepState {
  runsTotal = 0;
  runsDone = 0;
  runsFailed = 0;
  examplesTotal = 0;
  examplesDone = 0;
  startedAt = 0;
  current: RunState | null = null;
  private readonly planned = new Map<string, { examples: number; rounds: number }>();

  constructor(readonly now: () => number) {}

  /** `plans`: see SweepProgress.sweepStarted. */
  start(runs: readonly ExpandedRun[], plans?: ReadonlyMap<string, RunPlan>): void {
    this.startedAt = this.now();
    this.runsTotal = runs.length;
    for (const run of runs) {
      const plan = planRun(run.config, run.trainSize);
      // Replayed rounds are reported like computed ones; replayed trainings are not.
      const examples = plannedExamples(plans?.get(run.id) ?? plan);
      this.planned.set(run.id, { examples, rounds: plan.selections.length });
      this.examplesTotal += examples;
    }
  }

  runStarted(run: ExpandedRun): RunState {
    const planned = this.planned.get(run.id) ?? { examples: 0, rounds: 0 };
    this.current = {
      id: run.id,
      label: describeRun(run.config),
      ordinal: this.runsDone + 1,
      plannedExamples: planned.examples,
      doneExamples: 0,
      rounds: planned.rounds,
      roundsDone: 0,
      startedAt: this.now(),
      phase: null,
      thetaPMilestones: new Set(trainsThetaPForTargets(run) ? run.config.budget.milestones : []),
    };
    return this.current;
  }

  event(id: string, event: RunEvent): void {
    const run = this.current;
    if (run === null || run.id !== id) return;
    if (event.type === 'epoch') {
      const { phase: current } = run;
      const samePhase =
        current !== null && current.phase === event.phase && current.labelled === event.labelled;
      const thetaP = event.phase === 'selector' && run.thetaPMilestones.has(event.labelled);
      run.phase = {
        phase: event.phase,
        name: thetaP ? 'θp*' : event.phase,
        labelled: event.labelled,
        epoch: event.epoch.epoch + 1,
        totalEpochs: event.totalEpochs,
        startedAt: samePhase ? current.startedAt : this.now() - event.epoch.seconds * 1000,
      };
      // A run may train more than planned (the plan is an estimate); never overshoot.
      const examples = Math.min(event.labelled, run.plannedExamples - run.doneExamples);
      run.doneExamples += examples;
      this.examplesDone += examples;
    } else if (event.type === 'round') {
      run.roundsDone++;
    }
  }

  /** Counts the run as done, whatever it left of its planned examples. */
  runEnded(id: string, outcome: RunOutcome): void {
    const planned = this.planned.get(id)?.examples ?? 0;
    const done = this.current?.id === id ? this.current.doneExamples : 0;
    this.examplesDone += planned - done;
    this.runsDone++;
    if (outcome === 'failed') this.runsFailed++;
    if (this.current?.id === id) this.current = null;
  }

  /**
   * Seconds left in the sweep; null until there is something to extrapolate from. At the
   * current run's own pace once it has one: the average since the sweep began lags
   * behind a change of load, and always grew where the load did.
   */
  sweepEta(): number | null {
    const run = this.current;
    if (run && run.doneExamples > 0) {
      const perExample = this.elapsed(run.startedAt) / run.doneExamples;
      return perExample * Math.max(0, this.examplesTotal - this.examplesDone);
    }
    return eta(this.startedAt, this.examplesDone, this.examplesTotal, this.now());
  }

  runEta(): number | null {
    const run = this.current;
    return run ? eta(run.startedAt, run.doneExamples, run.plannedExamples, this.now()) : null;
  }

  phaseEta(): number | null {
    const phase = this.current?.phase;
    return phase ? eta(phase.startedAt, phase.epoch, phase.totalEpochs, this.now()) : null;
  }

  elapsed(since: number): number {
    return (this.now() - since) / 1000;
  }
}

/** PruneFuse trains θp* on each milestone's set when its target fuses or distils from it. */
function trainsThetaPForTargets({ config: { method } }: ExpandedRun): boolean {
  return method.name === 'prunefuse' && (method.fusion || method.kd);
}

/**
 * Where a run stands, for a status line: the round of a selector's training, or what a
 * milestone's training is for.
 */
export function describePhase(run: RunState, phase: PhaseState): string {
  const epochs = `epoch ${phase.epoch}/${phase.totalEpochs} on ${phase.labelled} labelled`;
  if (phase.name === 'θp*') return `θp* for the target at ${phase.labelled}, ${epochs}`;
  if (phase.name === 'target') return `target ${epochs}`;
  const round =
    run.rounds > 0 ? `round ${Math.min(run.roundsDone + 1, run.rounds)}/${run.rounds}, ` : '';
  return `${round}selector ${epochs}`;
}

function eta(startedAt: number, done: number, total: number, now: number): number | null {
  if (done <= 0 || total <= 0) return null;
  return ((now - startedAt) / 1000) * (Math.max(0, total - done) / done);
}
