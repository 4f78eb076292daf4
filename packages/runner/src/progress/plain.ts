import type { RunEvent, RunPlan } from '@prunefuse/results';
import type { ExpandedRun } from '../config/expand.js';
import { formatEta as eta, formatDuration } from './duration.js';
import type { ProgressStream, SweepProgress } from './sweep-progress.js';
import { describeOutcome, describePhase, type RunOutcome, SweepState } from './sweep-state.js';

/**
 * Progress for logs: a line when a run starts and ends, and between those a status line
 * at most every `intervalMs`, written when the run reports an epoch (no timers, so the
 * output is a function of the events and the clock).
 */
export class PlainProgress implements SweepProgress {
  private readonly state: SweepState;
  private lastStatus = 0;

  constructor(
    private readonly out: ProgressStream,
    private readonly options: { intervalMs: number; now: () => number },
  ) {
    this.state = new SweepState(options.now);
  }

  sweepStarted(
    runs: readonly ExpandedRun[],
    finished: number,
    plans?: ReadonlyMap<string, RunPlan>,
  ): void {
    this.state.start(runs, plans);
    this.line(`sweep: ${runs.length} runs to do, ${finished} already finished`);
  }

  runStarted(run: ExpandedRun): void {
    const current = this.state.runStarted(run);
    this.lastStatus = this.options.now();
    this.line(`${this.prefix()} ${run.id} ${current.label}: started`);
  }

  runEvent(id: string, event: RunEvent): void {
    this.state.event(id, event);
    const now = this.options.now();
    if (now - this.lastStatus < this.options.intervalMs) return;
    this.lastStatus = now;
    const run = this.state.current;
    const phase = run?.phase;
    if (!run || !phase) return;
    this.line(
      `${this.prefix()} ${run.id} ${describePhase(run, phase)}; ` +
        `run ETA ${eta(this.state.runEta())}, sweep ETA ${eta(this.state.sweepEta())}`,
    );
  }

  runEnded(id: string, outcome: RunOutcome, detail?: string): void {
    const run = this.state.current?.id === id ? this.state.current : null;
    const prefix = this.prefix();
    const took = run ? ` after ${formatDuration(this.state.elapsed(run.startedAt))}` : '';
    this.state.runEnded(id, outcome);
    const what = describeOutcome(outcome, took, detail);
    this.line(`${prefix} ${id} ${what}; sweep ETA ${eta(this.state.sweepEta())}`);
  }

  log(message: string): void {
    this.line(message);
  }

  sweepEnded(): void {
    const { runsDone, runsFailed, startedAt } = this.state;
    this.line(
      `sweep: ${runsDone - runsFailed} done, ${runsFailed} failed in ${formatDuration(this.state.elapsed(startedAt))}`,
    );
  }

  private prefix(): string {
    const ordinal = this.state.current?.ordinal ?? this.state.runsDone + 1;
    return `[run ${ordinal}/${this.state.runsTotal}]`;
  }

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }
}
