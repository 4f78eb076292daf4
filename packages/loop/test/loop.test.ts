import { tf } from '@prunefuse/engine';
import { countMacs } from '@prunefuse/models';
import type { RunEvent } from '@prunefuse/results';
import { describe, expect, test } from 'vitest';
import {
  activeLearningLoop,
  FrozenWeights,
  type LoopOutcome,
  type MethodFactory,
  scratchTarget,
} from '../src/index.js';
import { BUDGET, digitsLoopSetup, TRAINING } from './loop-fixtures.js';

const setup = digitsLoopSetup(11);

/**
 * A method shaped like PruneFuse as the loop sees it, without the pruning (which is the
 * prunefuse package's, above this one): θ itself selects, retrained from its initial
 * weights every round, and each milestone's target asks for the selector trained on
 * exactly its labelled set and distils from it.
 */
const distillingSelector: MethodFactory = ({ dense }) => {
  const initial = FrozenWeights.of(dense);
  return {
    name: 'prunefuse',
    selector: { spec: dense.spec, training: TRAINING, fresh: () => initial.network() },
    buildTarget: async ({ trainedSelector, freshTarget, train }) => {
      const teacher = { network: await trainedSelector(), lambda: 0.5, temperature: 4 };
      const network = freshTarget();
      return { ...(await train(network, { teacher })), network, init: 'scratch', kd: true };
    },
    dispose: () => initial.dispose(),
  };
};

/** Wraps a method, recording the initial weights of every selector it hands out. */
function observed(factory: MethodFactory) {
  const fresh: Float32Array[] = [];
  const targets: number[] = [];
  const wrapped: MethodFactory = (methodSetup) => {
    const method = factory(methodSetup);
    return {
      ...method,
      selector: method.selector && {
        ...method.selector,
        fresh: () => {
          const network = method.selector!.fresh();
          fresh.push(
            Float32Array.from(
              [...network.variables.values()].flatMap((v) => Array.from(v.dataSync())),
            ),
          );
          return network;
        },
      },
      buildTarget: (context) => {
        targets.push(context.labelled.length);
        return method.buildTarget(context);
      },
      dispose: () => method.dispose(),
    };
  };
  return { wrapped, fresh, targets };
}

function labelledInOrder(outcome: LoopOutcome): number[] {
  return [...outcome.initialLabelled, ...outcome.rounds.flatMap((r) => r.selected)];
}

describe('activeLearningLoop', () => {
  test('labels exactly up to each milestone, never twice, retraining the selector from scratch', async () => {
    const { wrapped, fresh, targets } = observed(distillingSelector);
    const events: RunEvent[] = [];
    const outcome = await activeLearningLoop(setup({ onEvent: (e) => events.push(e) }), wrapped);

    const labelled = labelledInOrder(outcome);
    expect(new Set(labelled).size).toBe(labelled.length);
    expect(labelled.length).toBe(90);
    expect(
      labelled.every((i) => Number.isInteger(i) && i >= 0 && i < setup().dataset.train.size),
    ).toBe(true);
    // 20 -> 40 -> 50 (milestone) -> 70 -> 90 (milestone): the round before a milestone takes less.
    expect(outcome.rounds.map((r) => [r.labelled, r.selected.length])).toEqual([
      [20, 20],
      [40, 10],
      [50, 20],
      [70, 20],
    ]);
    expect(outcome.targets.map((t) => t.labelled)).toEqual([50, 90]);
    expect(targets).toEqual([50, 90]);
    expect(outcome.targets.every((t) => t.kd)).toBe(true);

    // One fresh selector per labelled-set size (20, 40, 50, 70, 90), each from the same weights.
    expect(fresh).toHaveLength(5);
    for (const weights of fresh.slice(1)) expect(weights).toEqual(fresh[0]);
    for (const round of outcome.rounds) {
      expect(round.epochs).toHaveLength(TRAINING.epochs);
      expect(round.selectorAccuracy).toBeGreaterThanOrEqual(0);
      expect(round.macs.poolScoring).toBeGreaterThan(0);
    }

    const { macs } = outcome;
    expect(macs.total).toBe(macs.selectorTraining + macs.poolScoring + macs.targetTraining);
    // θp* for the target at 50 is trained by the target and reused, uncharged, by the round at 50.
    const [at50, at90] = outcome.targets;
    expect(at50!.selectorTrainingMacs).toBeGreaterThan(0);
    expect(at90!.selectorTrainingMacs).toBeGreaterThan(at50!.selectorTrainingMacs);
    expect(outcome.rounds.map((r) => r.macs.selectorTraining > 0)).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(outcome.rounds[2]!.selectorAccuracy).toBe(
      outcome.rounds[2]!.epochs.at(-1)!.testAccuracy,
    );
    // The target records the accuracy of the θp* it used: the network round 2 then selects with.
    expect(at50!.selectorAccuracy).toBe(outcome.rounds[2]!.selectorAccuracy);
    expect(at90!.selectorAccuracy).toBeGreaterThan(0);
    expect(macs.selectorTraining).toBe(
      outcome.rounds.reduce((t, r) => t + r.macs.selectorTraining, 0) +
        outcome.targets.reduce((t, x) => t + x.selectorTrainingMacs, 0),
    );
    expect(macs.targetTraining).toBe(outcome.targets.reduce((t, x) => t + x.macs, 0));
    expect(macs.poolScoring).toBe(outcome.rounds.reduce((t, r) => t + r.macs.poolScoring, 0));

    expect(events.filter((e) => e.type === 'round')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'target')).toHaveLength(2);
    const selectorEpochs = events.filter((e) => e.type === 'epoch' && e.phase === 'selector');
    expect(selectorEpochs).toHaveLength(5 * TRAINING.epochs);
  });

  test('a target that does not use the selector leaves the milestone selector untrained', async () => {
    const scratch: MethodFactory = (methodSetup) => ({
      ...distillingSelector(methodSetup),
      buildTarget: scratchTarget,
    });
    const { wrapped, fresh } = observed(scratch);
    const outcome = await activeLearningLoop(setup(), wrapped);
    // Selectors for the rounds at 20, 40, 50 and 70 labelled; none for the target at 90.
    expect(fresh).toHaveLength(4);
    expect(outcome.macs.selectorTraining).toBe(
      outcome.rounds.reduce((total, r) => total + r.macs.selectorTraining, 0),
    );
    expect(outcome.targets.every((t) => t.init === 'scratch' && t.selectorTrainingMacs === 0)).toBe(
      true,
    );
    expect(outcome.targets.map((t) => t.selectorAccuracy)).toEqual([undefined, undefined]);
  });

  test('the same seed selects the same indices; another seed does not', async () => {
    const a = await activeLearningLoop(setup(), distillingSelector);
    const b = await activeLearningLoop(setup(), distillingSelector);
    const c = await activeLearningLoop(setup({ seed: 12 }), distillingSelector);
    expect(labelledInOrder(b)).toEqual(labelledInOrder(a));
    expect(b.targets.map((t) => t.accuracy)).toEqual(a.targets.map((t) => t.accuracy));
    expect(labelledInOrder(c)).not.toEqual(labelledInOrder(a));
  });

  test('k-centres and entropy select through the same loop', async () => {
    for (const acquisition of ['k-centers', 'entropy'] as const) {
      const outcome = await activeLearningLoop(
        setup({ acquisition, budget: { ...BUDGET, milestones: [50] } }),
        distillingSelector,
      );
      const labelled = labelledInOrder(outcome);
      expect(new Set(labelled).size).toBe(50);
      // Each round scores the unlabelled pool; k-centres also embeds the labelled set.
      const forward = countMacs(setup().targetSpec);
      expect(outcome.rounds.map((r) => r.macs.poolScoring)).toEqual(
        outcome.rounds.map(
          (r) =>
            forward *
            (setup().dataset.train.size -
              r.labelled +
              (acquisition === 'k-centers' ? r.labelled : 0)),
        ),
      );
    }
  });

  test('records rank agreement between the selector and θ when asked', async () => {
    const outcome = await activeLearningLoop(
      setup({ rankAgreement: true, budget: { ...BUDGET, milestones: [40] } }),
      distillingSelector,
    );
    for (const round of outcome.rounds) {
      expect(round.rankAgreement?.k).toBe(20);
      expect(round.rankAgreement?.spearman).toBeGreaterThanOrEqual(-1);
      expect(round.rankAgreement?.spearman).toBeLessThanOrEqual(1);
      expect(round.rankAgreement?.topKOverlap).toBeGreaterThanOrEqual(0);
      // Measured on its own, never charged to the method.
      expect(round.rankAgreement?.seconds).toBeGreaterThan(0);
      expect(round.rankAgreement?.macs).toBeGreaterThan(0);
    }
    const { macs } = outcome;
    expect(macs.selectorTraining + macs.poolScoring).toBe(
      outcome.rounds.reduce((t, r) => t + r.macs.selectorTraining + r.macs.poolScoring, 0) +
        outcome.targets.reduce((t, x) => t + x.selectorTrainingMacs, 0),
    );
  });

  test('a method without a selector model may only select at random', async () => {
    const noSelector: MethodFactory = () => ({
      name: 'random',
      selector: null,
      buildTarget: scratchTarget,
      dispose: () => {},
    });
    await expect(activeLearningLoop(setup(), noSelector)).rejects.toThrow(
      "method 'random' has no selector model, so it cannot use acquisition 'least-confidence'",
    );
    const outcome = await activeLearningLoop(setup({ acquisition: 'random' }), noSelector);
    expect(outcome.rounds.every((r) => r.selectorAccuracy === null)).toBe(true);
    expect(outcome.macs.selectorTraining + outcome.macs.poolScoring).toBe(0);
    expect(new Set(labelledInOrder(outcome)).size).toBe(90);
  });

  test('rejects budgets that cannot be met, naming the problem', async () => {
    await expect(
      activeLearningLoop(setup({ budget: { ...BUDGET, milestones: [10] } }), distillingSelector),
    ).rejects.toThrow('milestone 10 is below 20');
    await expect(
      activeLearningLoop(setup({ budget: { ...BUDGET, milestones: [500] } }), distillingSelector),
    ).rejects.toThrow("milestone 500 exceeds the training split's 200");
  });

  test('tensor memory does not grow across runs and rounds', async () => {
    await activeLearningLoop(
      setup({ budget: { ...BUDGET, milestones: [40] } }),
      distillingSelector,
    );
    const before = tf.memory().numTensors;
    await activeLearningLoop(setup(), distillingSelector);
    await activeLearningLoop(setup({ acquisition: 'k-centers' }), distillingSelector);
    expect(tf.memory().numTensors).toBe(before);
  });
});
