import { existsSync } from 'node:fs';
import os from 'node:os';
import type { TrainingCheckpoints } from '@prunefuse/loop';
import {
  type ClaimHolder,
  describeRun,
  type ResultsStore,
  type RunCheckpoint,
  type RunConfig,
  type RunEvent,
  type RunRecord,
  type SavedTarget,
  type SelectionPhaseStore,
  sameEngine,
} from '@prunefuse/results';
import type { RunEnvironment, Tracker } from '@prunefuse/tracking';
import type { ExpandedRun } from './config/expand.js';
import type { SweepProgress } from './progress/reporter.js';
import {
  describeSaved,
  type SavedProgress,
  trainingOfKey,
  trainingPhrase,
} from './saved-progress.js';
import { plansLeft } from './work-left.js';

/** What a run gets besides its config while it executes. */
export interface RunContext {
  /** The run's id; the returned record must carry it. */
  readonly id: string;
  /** Backend, device, versions and git commit: the record's `environment`. */
  readonly environment: RunEnvironment;
  /**
   * Reports an epoch, a selection round or a built target as soon as it is done. The
   * event is appended to the run's journal in the store and drives the progress display
   * and live tracking.
   */
  emit(event: RunEvent): void;
  /**
   * The store's selection phases, which runs that select alike replay (see selectionId);
   * absent, every run computes its own.
   */
  readonly selections?: SelectionPhaseStore;
  /**
   * What an interrupted attempt of this run saved that this attempt can resume, and where
   * this attempt saves the targets it builds; absent, nothing is resumed or saved.
   */
  readonly checkpoints?: RunCheckpoints;
}

/** A run's checkpoint (see @prunefuse/results run-checkpoint) as one attempt sees it. */
export interface RunCheckpoints {
  /** Saved by an interrupted attempt on this backend and device; null when there is none. */
  readonly resumable: RunCheckpoint | null;
  /** Saves the targets built so far (replayed ones included), in milestone order. */
  save(targets: readonly SavedTarget[]): void;
  /** The run's training in progress, saved after every epoch and resumed from there. */
  readonly training: TrainingCheckpoints;
}

/**
 * What an earlier, killed attempt of run `id` left (its journal, its checkpoints), for
 * the line that says how the run goes on; null when no attempt was interrupted.
 */
function interruptedAttempt(
  store: ResultsStore,
  run: ExpandedRun,
  savedNow: SavedProgress,
): string | null {
  if (!existsSync(store.journalPath(run.id))) return null;
  const entries = store.journal(run.id);
  const start = entries.find((e) => e.type === 'start');
  const epochs = entries.filter((e) => e.type === 'epoch').length;
  const targets = entries.filter((e) => e.type === 'target').length;
  const when = start ? ` at ${start.at} on ${start.hostname}` : '';
  const saved = describeSaved(savedNow, run.config.budget.milestones.length);
  return (
    `an attempt started${when} stopped after ${epochs} epochs and ${targets} targets; ` +
    (saved === ''
      ? 'it saved no target or training epoch, so the run starts again (replaying the selection rounds stored, if any)'
      : `it goes on from what it saved (${saved}) and the selection rounds stored`)
  );
}

/**
 * Run `id`'s checkpoint for an attempt on `environment`: resumable when an interrupted
 * attempt saved it on the same backend and device. One saved elsewhere, or damaged, is
 * not resumed (the log says why) and is replaced by this attempt's first save.
 */
function runCheckpoints(
  store: ResultsStore,
  id: string,
  environment: RunEnvironment,
  log: (line: string) => void,
): RunCheckpoints {
  const found = store.readCheckpoint(id);
  let resumable: RunCheckpoint | null = null;
  if (found.state === 'damaged') {
    log(
      `run ${id}: its checkpoint cannot be read; every target is trained again\n  ${found.reason}`,
    );
  } else if (found.state === 'saved' && !sameEngine(found.checkpoint, environment)) {
    log(
      `run ${id}: its checkpoint's ${found.checkpoint.targets.length} target(s) were trained on ` +
        `${found.checkpoint.backend} (${found.checkpoint.device}), this sweep runs on ` +
        `${environment.backend} (${environment.device}): they are trained again here`,
    );
  } else if (found.state === 'saved') {
    resumable = found.checkpoint;
  }
  const firstAttempt = resumable?.firstAttempt ?? {
    startedAt: new Date().toISOString(),
    gitCommit: environment.gitCommit,
  };
  const engine = { backend: environment.backend, device: environment.device };
  return {
    resumable,
    training: {
      load(key) {
        const found = store.readTrainingCheckpoint(id);
        if (found.state === 'damaged') {
          log(
            `run ${id}: its training checkpoint cannot be read; that training starts afresh\n  ${found.reason}`,
          );
        }
        if (found.state !== 'saved') return null;
        const { key: savedKey, backend: _b, device: _d, ...state } = found.training;
        if (savedKey !== key || !sameEngine(found.training, engine)) return null;
        log(
          `run ${id}: resuming its ${trainingPhrase(trainingOfKey(key))} after epoch ${state.epochs.length}`,
        );
        return state;
      },
      save(key, state) {
        store.saveTrainingCheckpoint(id, { key, ...engine, ...state });
      },
    },
    save(targets) {
      store.saveCheckpoint({
        schema: 1,
        id,
        firstAttempt,
        backend: environment.backend,
        device: environment.device,
        targets: [...targets],
      });
    },
  };
}

/** Executes one resolved run, start to finish, and returns its record. */
export type ExecuteRun = (config: RunConfig, context: RunContext) => Promise<RunRecord>;

export interface SweepOptions {
  runs: readonly ExpandedRun[];
  store: ResultsStore;
  execute: ExecuteRun;
  /** Called once, before the first run this process executes (selects the backend). */
  environment: () => Promise<RunEnvironment>;
  progress: SweepProgress;
  tracker?: Tracker | null;
  /** How often to look again at runs that another sweep is executing (default 2 s). */
  pollMs?: number;
}

export interface SweepSummary {
  total: number;
  /** Finished before this sweep started. */
  skipped: string[];
  /** Executed and finished by this sweep. */
  executed: string[];
  /** Finished by another sweep sharing the store while this one ran. */
  finishedElsewhere: string[];
  failed: Array<{ id: string; message: string }>;
}

/**
 * Runs every run of `runs` that the store does not hold yet, one at a time:
 * - first the leftovers of killed sweeps are cleaned up (ResultsStore.cleanLeftovers);
 * - a run whose record is damaged is not finished: its record is moved aside and the
 *   run executed again;
 * - a run is executed only under its claim (see @prunefuse/results run-claim), and the
 *   store is checked again once claimed, so two sweeps on one store never execute the
 *   same run and a run finished by the other one is not redone;
 * - the record is written atomically once the run returns; the claim is released even
 *   when the run throws;
 * - a failed run is written to the store's failures/ (message and stack), reported, and
 *   the sweep goes on; a later sweep retries it;
 * - runs claimed by another live sweep are waited for, so that when this function
 *   returns every run is finished or has failed; a claim whose process died meanwhile
 *   (or, from another host, whose lease expired) is taken over and the run executed here;
 * - while a run executes, its claim's lease is renewed (see RunClaim.keepAlive).
 */
export async function runSweep(options: SweepOptions): Promise<SweepSummary> {
  const { runs, store, progress } = options;
  const summary: SweepSummary = {
    total: runs.length,
    skipped: [],
    executed: [],
    finishedElsewhere: [],
    failed: [],
  };
  const cleanup = store.cleanLeftovers();
  for (const adopted of cleanup.adopted)
    progress.log(`adopted the record a killed sweep left: ${adopted}`);
  for (const removed of cleanup.removed) progress.log(`removed ${removed}`);
  const pending = runs.filter((run) => {
    if (!store.has(run.id)) return true;
    summary.skipped.push(run.id);
    return false;
  });
  const left = plansLeft(pending, store);
  progress.sweepStarted(
    pending,
    summary.skipped.length,
    new Map([...left].map(([id, { plan }]) => [id, plan])),
  );
  for (const run of pending) {
    const interrupted = interruptedAttempt(store, run, left.get(run.id)!.saved);
    if (interrupted)
      progress.log(`resuming interrupted run ${run.id} ${describeRun(run.config)}: ${interrupted}`);
  }
  let environment: Promise<RunEnvironment> | null = null;
  const announced = new Set<string>();
  try {
    let waiting = pending;
    while (waiting.length > 0) {
      const busy: ExpandedRun[] = [];
      let progressed = false;
      for (const run of waiting) {
        if (store.has(run.id)) {
          summary.finishedElsewhere.push(run.id);
          progress.runEnded(run.id, 'finished-elsewhere');
          progressed = true;
          continue;
        }
        const attempt = store.claim(run.id);
        if (!attempt.claimed) {
          busy.push(run);
          if (!announced.has(run.id) && attempt.holder) {
            announced.add(run.id);
            progress.log(
              `run ${run.id} is being executed by ${describeHolder(attempt.holder)}; waiting for it`,
            );
          }
          continue;
        }
        progressed = true;
        if (attempt.tookOver) progress.log(describeTakeover(run.id, attempt.tookOver));
        // Other hosts see the claim alive as long as this process renews its lease.
        const renewal = attempt.claim.keepAlive();
        try {
          if (store.has(run.id)) {
            summary.finishedElsewhere.push(run.id);
            progress.runEnded(run.id, 'finished-elsewhere');
            continue;
          }
          setAsideDamaged(run.id, store, progress);
          environment ??= options.environment();
          await executeClaimed(run, await environment, options, summary);
        } finally {
          await renewal.stop();
          attempt.claim.release();
        }
      }
      if (busy.length > 0 && !progressed) await sleep(options.pollMs ?? 2_000);
      waiting = busy;
    }
  } finally {
    progress.sweepEnded();
  }
  return summary;
}

async function executeClaimed(
  run: ExpandedRun,
  environment: RunEnvironment,
  options: SweepOptions,
  summary: SweepSummary,
): Promise<void> {
  const { store, progress } = options;
  const journal = store.startJournal(run.id);
  const tracked = options.tracker?.startRun(run, environment) ?? null;
  progress.runStarted(run);
  const context: RunContext = {
    id: run.id,
    environment,
    emit(event) {
      journal.append(event);
      progress.runEvent(run.id, event);
      tracked?.event(event);
    },
    selections: store.selections,
    checkpoints: runCheckpoints(store, run.id, environment, (line) => progress.log(line)),
  };
  let record: RunRecord;
  try {
    record = await options.execute(run.config, context);
    if (record.id !== run.id) {
      throw new Error(`the run returned a record with id '${record.id}'; expected '${run.id}'`);
    }
    store.write(record);
  } catch (error) {
    journal.close();
    const failure = store.recordFailure(run.id, run.config.experiment, error);
    summary.failed.push({ id: run.id, message: failure.message });
    await tracked?.fail(error);
    progress.runEnded(run.id, 'failed', failure.message);
    return;
  }
  journal.close();
  store.clearFailure(run.id);
  store.removeJournal(run.id);
  store.removeCheckpoint(run.id);
  summary.executed.push(run.id);
  await tracked?.finish(record, store.recordPath(run.id));
  progress.runEnded(run.id, 'finished');
}

/**
 * A record that cannot be read (truncated, empty, hand-edited, from an incompatible
 * version) does not count as finished: it is moved to runs/damaged/ with the reason, never
 * deleted, and the run computed again. Called under the run's claim.
 */
function setAsideDamaged(id: string, store: ResultsStore, progress: SweepProgress): void {
  const found = store.inspect(id);
  if (found.state !== 'damaged') return;
  const moved = store.moveAside(id, found.reason);
  if (moved)
    progress.log(
      `run ${id}: damaged record moved to ${moved}; computing it again\n  ${found.reason}`,
    );
}

function describeHolder(holder: ClaimHolder): string {
  return `pid ${holder.pid} on ${holder.hostname} (since ${holder.startedAt})`;
}

function describeTakeover(id: string, stale: ClaimHolder): string {
  const why =
    stale.hostname === os.hostname()
      ? 'that process is gone'
      : `its lease expired at ${stale.expiresAt} (that host stopped renewing it)`;
  return `run ${id}: taking over the claim of ${describeHolder(stale)}: ${why}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
