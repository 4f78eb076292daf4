import type { RunRecord } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { summarizeRuns } from '../src/aggregate.js';
import { kdGrids } from '../src/kd-grid.js';
import { panelsOf } from '../src/panels.js';
import { fixtureKdSettings, fixtureRun, METHODS } from './fixtures.js';

const gridsOf = (records: readonly RunRecord[]) =>
  panelsOf(summarizeRuns(records)).flatMap((panel) => kdGrids(panel));

/** The run measured at its last milestone only, as a λ x T grid run of fashion-mnist-resnet20. */
function lastMilestoneOnly(run: RunRecord): RunRecord {
  const last = Math.max(...run.targets.map((t) => t.labelled));
  return {
    ...run,
    id: `${run.id}-last`,
    config: { ...run.config, budget: { ...run.config.budget, milestones: [last] } },
    targets: run.targets.filter((t) => t.labelled === last),
  };
}

const accuracyAt = (run: RunRecord, labelled: number) =>
  run.targets.find((t) => t.labelled === labelled && t.init === 'fused')!.accuracy * 100;

describe('the KD λ x T grid', () => {
  const seeds = [0, 1];
  const defaults = seeds.map((seed) => fixtureRun({ method: METHODS.prunefuse(0.5), seed }));
  const noKd = seeds.map((seed) =>
    fixtureRun({ method: METHODS.prunefuse(0.5, { kd: false }), seed }),
  );

  it('sets each λ x T setting beside the same method without KD and its teacher, per budget', () => {
    const others = fixtureKdSettings(seeds);
    const grids = gridsOf([...defaults, ...noKd, ...others]);
    expect(grids.map((g) => [g.method, g.labelled, g.cells.length])).toEqual([
      ['prunefuse p=0.5', 500, 3],
      ['prunefuse p=0.5', 1000, 3],
      ['prunefuse p=0.5', 1500, 3],
    ]);
    const [, , last] = grids;
    expect(last!.cells.map((c) => [c.lambda, c.temperature, c.accuracy.n])).toEqual([
      [0.5, 4, 2],
      [0.9, 1, 2],
      [0.9, 4, 2],
    ]);
    const mean = (runs: RunRecord[]) =>
      runs.reduce((t, r) => t + accuracyAt(r, 1500), 0) / runs.length;
    expect(last!.cells[0]!.accuracy.mean).toBeCloseTo(mean(defaults), 10);
    expect(last!.withoutKd!.mean).toBeCloseTo(mean(noKd), 10);
    expect(last!.withoutKd!.n).toBe(2);
    // θp*: the selectorAccuracy its distilled targets recorded, one per seed.
    const teacher =
      (defaults[0]!.targets.at(-1)!.selectorAccuracy! * 100 +
        defaults[1]!.targets.at(-1)!.selectorAccuracy! * 100) /
      2;
    expect(last!.teacher).toEqual({
      mean: expect.closeTo(teacher, 10),
      std: expect.any(Number),
      n: 2,
    });
  });

  it('joins runs measured at the last budget only, counting a seed measured twice once', () => {
    // The grid runs measure 1,500 alone; the default setting also ran at every budget.
    const others = fixtureKdSettings(seeds).map(lastMilestoneOnly);
    const again = defaults.map(lastMilestoneOnly);
    const grids = gridsOf([...defaults, ...again, ...noKd, ...others]);
    expect(grids.map((g) => g.labelled)).toEqual([1500]);
    expect(grids[0]!.cells.map((c) => c.accuracy.n)).toEqual([2, 2, 2]);
  });

  it('keeps methods apart, and draws nothing with fewer than two settings', () => {
    const noFusion = fixtureRun({
      method: METHODS.prunefuse(0.5, { fusion: false, kdLambda: 0.9 }),
      seed: 0,
    });
    const otherRatio = fixtureRun({ method: METHODS.prunefuse(0.7, { kdLambda: 0.9 }), seed: 0 });
    expect(gridsOf([...defaults, ...noKd, noFusion, otherRatio])).toEqual([]);
    const grids = gridsOf([
      ...defaults,
      noFusion,
      fixtureRun({ method: METHODS.prunefuse(0.5, { fusion: false }), seed: 0 }),
    ]);
    expect(grids.map((g) => [g.method, g.cells.length, g.withoutKd])).toEqual([
      ['prunefuse p=0.5 no-fusion', 2, null],
      ['prunefuse p=0.5 no-fusion', 2, null],
      ['prunefuse p=0.5 no-fusion', 2, null],
    ]);
  });
});
