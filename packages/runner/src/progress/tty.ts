import type { RunEvent, RunPlan } from '@prunefuse/results';
import cliProgress from 'cli-progress';
import type { ExpandedRun } from '../config/expand.js';
import { formatDuration, formatEta } from './duration.js';
import type { ProgressStream, SweepProgress } from './sweep-progress.js';
import { describeOutcome, type RunOutcome, SweepState } from './sweep-state.js';

type Bar = cliProgress.SingleBar;

/**
 * Live bars on a terminal (cli-progress, redrawn in place): the sweep in epochs with the
 * runs done, the current run with its rounds, and the current training phase's epochs;
 * each with an ETA. Messages are printed above the bars.
 */
export class TtyProgress implements SweepProgress {
  private readonly state: SweepState;
  private readonly bars: cliProgress.MultiBar;
  private sweepBar: Bar | null = null;
  private runBar: Bar | null = null;
  private phaseBar: Bar | null = null;

  constructor(stream: ProgressStream, now: () => number) {
    this.state = new SweepState(now);
    this.bars = new cliProgress.MultiBar({
      stream: stream as NodeJS.WritableStream,
      format: '{label} {bar} {percentage}% {detail} | ETA {etaText}',
      barsize: 20,
      hideCursor: false,
      clearOnComplete: false,
      autopadding: true,
      fps: 5,
    });
  }

  sweepStarted(
    runs: readonly ExpandedRun[],
    finished: number,
    plans?: ReadonlyMap<string, RunPlan>,
  ): void {
    this.state.start(runs, plans);
    if (finished > 0) this.log(`sweep: ${finished} runs already finished`);
    this.sweepBar = this.bars.create(Math.max(1, this.state.examplesTotal), 0, this.sweepPayload());
  }

  runStarted(run: ExpandedRun): void {
    const current = this.state.runStarted(run);
    const payload = { label: `run ${run.id}`, detail: current.label, etaText: '?' };
    if (this.runBar) this.runBar.start(Math.max(1, current.plannedExamples), 0, payload);
    else this.runBar = this.bars.create(Math.max(1, current.plannedExamples), 0, payload);
    this.refresh();
  }

  runEvent(id: string, event: RunEvent): void {
    this.state.event(id, event);
    this.refresh();
  }

  runEnded(id: string, outcome: RunOutcome, detail?: string): void {
    const run = this.state.current?.id === id ? this.state.current : null;
    const took = run ? ` after ${formatDuration(this.state.elapsed(run.startedAt))}` : '';
    this.state.runEnded(id, outcome);
    const what = describeOutcome(outcome, took, detail);
    this.log(`run ${id} ${run?.label ?? ''} ${what}`.replace(/ {2,}/g, ' '));
    this.refresh();
  }

  log(message: string): void {
    this.bars.log(`${message}\n`);
  }

  sweepEnded(): void {
    this.refresh();
    // A final redraw prints messages still buffered; stop() alone would drop them.
    this.bars.update();
    this.bars.stop();
  }

  private refresh(): void {
    this.sweepBar?.update(this.state.examplesDone, this.sweepPayload());
    const run = this.state.current;
    if (run && this.runBar) {
      // A round is shown while a selector trains for it; θp* and targets serve a milestone.
      const inRound = run.phase === null || run.phase.name === 'selector';
      const rounds =
        run.rounds > 0 && inRound
          ? `round ${Math.min(run.roundsDone + 1, run.rounds)}/${run.rounds} `
          : '';
      this.runBar.update(run.doneExamples, {
        label: `run ${run.id}`,
        detail: `${rounds}${run.label}`,
        etaText: formatEta(this.state.runEta()),
      });
    }
    const phase = run?.phase;
    if (phase) {
      const payload = {
        label: `  ${phase.name}`,
        detail: `epoch ${phase.epoch}/${phase.totalEpochs} on ${phase.labelled} labelled${phase.name === 'θp*' ? ', for the target' : ''}`,
        etaText: formatEta(this.state.phaseEta()),
      };
      if (this.phaseBar) {
        this.phaseBar.setTotal(phase.totalEpochs);
        this.phaseBar.update(phase.epoch, payload);
      } else {
        this.phaseBar = this.bars.create(phase.totalEpochs, phase.epoch, payload);
      }
    }
  }

  private sweepPayload() {
    const { runsDone, runsTotal, runsFailed } = this.state;
    return {
      label: 'sweep',
      detail: `${runsDone}/${runsTotal} runs${runsFailed > 0 ? `, ${runsFailed} failed` : ''}`,
      etaText: formatEta(this.state.sweepEta()),
    };
  }
}
