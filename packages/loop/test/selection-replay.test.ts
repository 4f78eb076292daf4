import { tf } from '@prunefuse/engine';
import { beforeAll, describe, expect, test } from 'vitest';
import { untimedFigures } from '../../results/test/fixtures/untimed-figures.js';
import {
  activeLearningLoop,
  FrozenWeights,
  type LoopCheckpoint,
  type LoopOutcome,
  type LoopSetup,
  type MethodFactory,
  scratchTarget,
} from '../src/index.js';
import { BUDGET, digitsLoopSetup, TRAINING } from './loop-fixtures.js';

const setup = digitsLoopSetup(5);

/**
 * Methods that share a selection and differ only in their targets, counting the selectors
 * they train: `distils` distils every target from θp* (so its targets depend on the
 * selector's weights and it needs θp* at the last milestone); `scratch` never uses θp*.
 */
function methods() {
  let trained = 0;
  const method =
    (target: 'distils' | 'scratch'): MethodFactory =>
    ({ dense }) => {
      const initial = FrozenWeights.of(dense);
      return {
        name: 'prunefuse',
        selector: {
          spec: dense.spec,
          training: TRAINING,
          fresh: () => {
            trained++;
            return initial.network();
          },
        },
        buildTarget:
          target === 'scratch'
            ? scratchTarget
            : async ({ trainedSelector, freshTarget, train }) => {
                const teacher = { network: await trainedSelector(), lambda: 0.5, temperature: 4 };
                const network = freshTarget();
                const outcome = await train(network, { teacher });
                return { ...outcome, network, init: 'scratch', kd: true };
              },
        dispose: () => initial.dispose(),
      };
    };
  return { distils: method('distils'), scratch: method('scratch'), trained: () => trained };
}

/**
 * The selection phases a run checkpoints, as (rounds, selectors) counts, next to its
 * outcome: what a later attempt would resume from, offered only as the run computes it.
 */
async function withCheckpoints(
  loopSetup: LoopSetup,
  method: MethodFactory,
): Promise<{ outcome: LoopOutcome; phases: [number, number][]; last: LoopCheckpoint | null }> {
  const phases: [number, number][] = [];
  let last: LoopCheckpoint | null = null;
  const outcome = await activeLearningLoop(
    {
      ...loopSetup,
      onCheckpoint: (checkpoint) => {
        if (checkpoint.kind === 'selection') {
          phases.push([checkpoint.selection.rounds.length, checkpoint.selection.selectors.length]);
          last = checkpoint;
        }
      },
    },
    method,
  );
  return { outcome, phases, last };
}

describe('replaying a stored selection phase', () => {
  const { distils, scratch, trained } = methods();
  /** The distilling method's run, computed: 5 selectors, at 20, 40, 50, 70 and 90 labelled. */
  let computed: LoopOutcome;
  /** The phases the computed run checkpointed. */
  let computedPhases: [number, number][];
  beforeAll(async () => {
    const run = await withCheckpoints(setup(), distils);
    computed = run.outcome;
    computedPhases = run.phases;
    expect(run.last).toEqual({ kind: 'selection', selection: computed.selection });
  });

  test('checkpoints the phase after each selector trained and each round computed, once', () => {
    const { rounds, selectors } = computed.selection!;
    expect(computedPhases).toHaveLength(rounds.length + selectors.length);
    // Each checkpoint adds exactly one round or one selector to the last.
    computedPhases.forEach(([r, s], i) => {
      const [r0, s0] = computedPhases[i - 1] ?? [0, 0];
      expect(r - r0 + (s - s0)).toBe(1);
    });
  });

  test('gives the record of computing it, selection and MACs included, without training a selector', async () => {
    const before = { trained: trained(), tensors: tf.memory().numTensors };
    const { outcome: replayed, phases } = await withCheckpoints(
      setup({ storedSelection: computed.selection }),
      distils,
    );
    expect(trained()).toBe(before.trained);
    // Nothing new to the stored phase, so nothing is checkpointed (offered) again.
    expect(phases).toEqual([]);
    // Rounds are replayed whole, their recorded seconds too; targets train again.
    expect(replayed.rounds).toEqual(computed.rounds);
    expect(untimedFigures(replayed)).toEqual(untimedFigures(computed));
    expect(replayed.targets.map((t) => t.selectorTrainingMacs)).toEqual(
      computed.targets.map((t) => t.selectorTrainingMacs),
    );
    expect(replayed.selection).toEqual(computed.selection);
    expect(tf.memory().numTensors).toBe(before.tensors);
  });

  test('charges each run as its own computation would, and extends a phase that lacks a selector', async () => {
    const fromScratchRun = await activeLearningLoop(setup(), scratch);
    // The scratch target never asks for θp* at 90: that phase has 4 selectors.
    expect(fromScratchRun.selection!.selectors.map((s) => s.labelled)).toEqual([20, 40, 50, 70]);
    const before = trained();
    const { outcome: replayed, phases } = await withCheckpoints(
      setup({ storedSelection: fromScratchRun.selection }),
      distils,
    );
    expect(phases).toEqual([[computed.rounds.length, 5]]);
    // Only θp* at 90 is trained; the round at 50 is charged nothing, its selector having
    // been trained for the target at 50, as when computed.
    expect(trained() - before).toBe(1);
    expect(untimedFigures(replayed)).toEqual(untimedFigures(computed));
    expect(replayed.selection!.selectors.map((s) => s.labelled)).toEqual([20, 40, 50, 70, 90]);
  });

  test('leaves the stored phase where the rounds differ and computes the rest as usual', async () => {
    // Milestone 90 only: 20 -> 40 -> 60 -> 80 -> 90; the stored run went 40 -> 50 instead.
    const oneMilestone = setup({ budget: { ...BUDGET, milestones: [90] } });
    const own = await activeLearningLoop(oneMilestone, distils);
    const before = trained();
    const { outcome: replayed, phases } = await withCheckpoints(
      { ...oneMilestone, storedSelection: computed.selection },
      distils,
    );
    // Selectors at 20 and 40 come from the store; 60, 80 and 90 are trained.
    expect(trained() - before).toBe(3);
    // Checkpointed from the first computed round (40 -> 60) on: rounds 2-4, selectors 60-90.
    expect(phases).toEqual([
      [2, 2],
      [2, 3],
      [3, 3],
      [3, 4],
      [4, 4],
      [4, 5],
    ]);
    expect(untimedFigures(replayed)).toEqual(untimedFigures(own));
  });

  test('refuses a phase that starts from another initial labelled set', async () => {
    await expect(
      activeLearningLoop(setup({ seed: 6, storedSelection: computed.selection }), distils),
    ).rejects.toThrow(/does not start from this run’s initial labelled set/);
  });
});
