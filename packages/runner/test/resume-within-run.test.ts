import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '@prunefuse/engine';
import type { TrainingCheckpoints, TrainingState } from '@prunefuse/loop';
import {
  labelledSetDigest,
  type RunCheckpoint,
  type SavedTarget,
  SelectionPhaseStore,
} from '@prunefuse/results';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { untimedFigures } from '../../results/test/fixtures/untimed-figures.js';
import { type ExpandedRun, expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { describeDataset, executeRun } from '../src/execute-run.js';
import { selectionId } from '../src/run-id.js';
import type { RunCheckpoints } from '../src/sweep.js';
import { TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

// Two milestones, so that an attempt can stop between targets. The PruneFuse run fuses θp*
// and distils from it at every milestone (its targets ask for the selector); random has no
// selection phase, only targets; full is one training on the whole split.
const CONFIG = `
dataset: { name: mnist, trainSubset: 80, testSubset: 20 }
arch: resnet8-digits
methods:
  - random
  - full
  - name: prunefuse
    fusion: true
    kd: true
budget: { initial: 20, milestones: [30, 50], roundSize: 10 }
training: { epochs: 2, batchSize: 16, schedule: one-cycle, nesterov: true, lr: 0.05, augment: { translate: 2 }, evalEvery: 2 }
seeds: [3]
`;

class AttemptKilled extends Error {}

/** One attempt's checkpoints, kept in memory: what it saved, for the next attempt. */
interface Slot extends RunCheckpoints {
  saved: RunCheckpoint | null;
  training: TrainingCheckpoints & { saved: { key: string; state: TrainingState } | null };
}

/**
 * The checkpoints of an attempt that resumes what `previous` saved. With `killAfter`, the
 * attempt dies right after saving that many targets, or that many epochs' training states,
 * as a kill -9 there would leave it.
 */
function checkpointSlot(
  previous: Pick<Slot, 'saved' | 'training'> | null,
  killAfter: { targets?: number; epochs?: number } = {},
): Slot {
  const resumable = previous?.saved ?? null;
  let epochsSaved = 0;
  return {
    resumable,
    saved: null,
    save(targets: readonly SavedTarget[]) {
      this.saved = {
        schema: 1,
        id: 'run',
        firstAttempt: resumable?.firstAttempt ?? {
          startedAt: '2026-12-02T10:00:00.000Z',
          gitCommit: 'c0ffee',
        },
        backend: TEST_ENVIRONMENT.backend,
        device: TEST_ENVIRONMENT.device,
        targets: [...targets],
      };
      if (targets.length === killAfter.targets)
        throw new AttemptKilled(`after ${targets.length} targets`);
    },
    training: {
      saved: previous?.training.saved ?? null,
      load(key) {
        return this.saved?.key === key ? this.saved.state : null;
      },
      save(key, state) {
        this.saved = { key, state };
        epochsSaved += 1;
        if (epochsSaved === killAfter.epochs)
          throw new AttemptKilled(`after ${epochsSaved} epochs`);
      },
    },
  };
}

describe('a run resumed after its attempt was killed part-way', () => {
  const runs = expandSweep(parseExperiment('resume.yaml', CONFIG), describeDataset).runs;
  const byMethod = (name: string) => runs.find((run) => run.config.method.name === name)!;
  let root: string;

  beforeAll(async () => {
    await selectBackend('wasm');
    root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-resume-within-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const execute = (
    run: ExpandedRun,
    selections: SelectionPhaseStore,
    checkpoints?: RunCheckpoints,
  ) =>
    executeRun(run.config, {
      id: run.id,
      environment: TEST_ENVIRONMENT,
      emit: () => {},
      selections,
      ...(checkpoints ? { checkpoints } : {}),
    });

  test.each(['prunefuse', 'random'])(
    '%s: records what an uninterrupted run records, trains only what was missing',
    async (method) => {
      const run = byMethod(method);
      const whole = await execute(run, new SelectionPhaseStore(path.join(root, method, 'whole')));
      expect(whole.resumed).toBeUndefined();

      const selections = new SelectionPhaseStore(path.join(root, method, 'killed'));
      const first = checkpointSlot(null, { targets: 1 });
      await expect(execute(run, selections, first)).rejects.toThrow(AttemptKilled);
      expect(first.saved!.targets.map((t) => t.record.labelled)).toEqual([30]);
      const selection = selectionId(run.config);
      if (selection) {
        // The killed attempt's rounds and selectors up to its first target were stored as
        // they finished: round 0 (20 -> 30) and the selectors trained on 20 and on 30.
        const phase = selections.read(selection)!;
        expect(phase.run).toBe(run.id);
        expect(phase.phase.rounds.map((r) => r.labelled)).toEqual([20]);
        expect(phase.phase.selectors.map((s) => s.labelled)).toEqual([20, 30]);
      }

      const second = checkpointSlot(first);
      const resumed = await execute(run, selections, second);
      expect(resumed.resumed).toEqual({
        targets: [30],
        firstStartedAt: '2026-12-02T10:00:00.000Z',
        firstGitCommit: 'c0ffee',
      });
      expect(untimedFigures(resumed)).toEqual(untimedFigures(whole));
      // The replayed target is the one the killed attempt trained, its clock included.
      expect(resumed.targets[0]).toEqual(first.saved!.targets[0]!.record);
      expect(second.saved!.targets.map((t) => t.record)).toEqual(resumed.targets);
      expect(second.saved!.firstAttempt).toEqual(first.saved!.firstAttempt);
      if (selection) expect(resumed.selection).toEqual({ id: selection, replayedFrom: run.id });
    },
    300_000,
  );

  // PruneFuse saves a state after the first of the two epochs of each training: the
  // selectors on 20 and on 30, then the target on 30, killed there, half-way through it.
  test.each([
    ['prunefuse', 3],
    ['full', 1],
  ])(
    '%s killed in the middle of a training resumes it from its last epoch, exactly',
    async (method, epochs) => {
      const run = byMethod(method);
      const whole = await execute(
        run,
        new SelectionPhaseStore(path.join(root, `${method}-mid`, 'whole')),
      );
      const selections = new SelectionPhaseStore(path.join(root, `${method}-mid`, 'killed'));
      const first = checkpointSlot(null, { epochs });
      await expect(execute(run, selections, first)).rejects.toThrow(AttemptKilled);
      expect(first.saved).toBeNull(); // no target was finished
      expect(first.training.saved!.key).toMatch(/^target\//);
      expect(first.training.saved!.state.epochs.map((e) => e.epoch)).toEqual([0]);

      const second = checkpointSlot(first);
      const resumed = await execute(run, selections, second);
      expect(untimedFigures(resumed)).toEqual(untimedFigures(whole));
      // The resumed target kept the epoch the killed attempt trained, its clock included.
      expect(resumed.targets[0]!.epochs[0]).toEqual(first.training.saved!.state.epochs[0]);
    },
    300_000,
  );

  test('a training state that does not fit the network (a changed architecture) is trained afresh', async () => {
    const run = byMethod('full');
    const selections = new SelectionPhaseStore(path.join(root, 'misfit'));
    const first = checkpointSlot(null, { epochs: 1 });
    await expect(execute(run, selections, first)).rejects.toThrow(AttemptKilled);
    const { key, state } = first.training.saved!;
    const [dropped] = state.weights.keys();
    const misfit = new Map(state.weights);
    misfit.delete(dropped!);
    first.training.saved = { key, state: { ...state, weights: misfit } };
    const afresh = await execute(run, selections, checkpointSlot(first));
    const whole = await execute(run, new SelectionPhaseStore(path.join(root, 'misfit-whole')));
    // (Restoring it would have thrown: setWeights needs every variable.)
    expect(untimedFigures(afresh)).toEqual(untimedFigures(whole));
  }, 300_000);

  test('a saved target trained on another labelled set is trained again', async () => {
    const run = byMethod('random');
    const selections = new SelectionPhaseStore(path.join(root, 'mismatch'));
    const first = checkpointSlot(null, { targets: 1 });
    await expect(execute(run, selections, first)).rejects.toThrow(AttemptKilled);
    const [saved] = first.saved!.targets as [SavedTarget];
    // As if the selection had changed between the attempts (e.g. a code change): same
    // milestone, same size, another set.
    const foreign = checkpointSlot(null);
    foreign.save([{ ...saved, labelledSet: labelledSetDigest([1, 2, 3]) }]);
    const retrained = await execute(run, selections, checkpointSlot(foreign));
    expect(retrained.resumed).toBeUndefined();
    const genuine = await execute(run, selections, checkpointSlot(first));
    expect(genuine.resumed?.targets).toEqual([30]);
    // Trained again, the target is the one the killed attempt saved, but for its clock.
    expect(untimedFigures(retrained)).toEqual(untimedFigures(genuine));
  }, 300_000);
});
