import type { RunRecord } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { summarizeGroup } from '../src/aggregate.js';
import { type ClaimResult, testClaims } from '../src/claims.js';
import { groupRuns } from '../src/groups.js';
import { composeReport } from '../src/html.js';
import { budgetMeasurements } from '../src/measurements.js';
import { panelsOf } from '../src/panels.js';
import { fixtureRun, fixtureSweep, METHODS } from './fixtures.js';

function claimsOf(records: readonly RunRecord[]): ClaimResult[] {
  return testClaims(panelsOf(groupRuns(records).map(summarizeGroup)));
}

function claim(records: readonly RunRecord[], id: ClaimResult['id']): ClaimResult {
  return claimsOf(records).find((c) => c.id === id)!;
}

function accuracyAt(run: RunRecord, labelled: number): number {
  return budgetMeasurements(run).find((m) => m.labelled === labelled)!.accuracy * 100;
}

/** Student's t quantile t(0.975, 1), the two-seed interval's factor. */
const T_975_DF1 = 12.706204736;

describe('the claims panel', () => {
  it('pairs the arms by seed: the mean of per-seed differences with a Student-t interval', () => {
    const runs = fixtureSweep();
    const kd = claim(runs, 'kd');
    expect(kd.comparisons.map((c) => [c.arm, c.against, c.labelled])).toEqual([
      ['prunefuse p=0.5', 'prunefuse p=0.5 no-KD', 500],
      ['prunefuse p=0.5', 'prunefuse p=0.5 no-KD', 1000],
      ['prunefuse p=0.5', 'prunefuse p=0.5 no-KD', 1500],
    ]);
    const find = (kdOn: boolean, seed: number) =>
      runs.find(
        (r) =>
          r.config.seed === seed &&
          r.config.method.name === 'prunefuse' &&
          r.config.method.prune === 0.5 &&
          r.config.method.fusion &&
          r.config.method.kd === kdOn,
      );
    for (const comparison of kd.comparisons) {
      const differences = [0, 1].map(
        (seed) =>
          accuracyAt(find(true, seed)!, comparison.labelled) -
          accuracyAt(find(false, seed)!, comparison.labelled),
      );
      const mean = (differences[0]! + differences[1]!) / 2;
      // sd of two values is |a − b| / √2, and the interval's half width t · sd / √2.
      const half = (T_975_DF1 * Math.abs(differences[0]! - differences[1]!)) / 2;
      expect(comparison.difference.n).toBe(2);
      expect(comparison.difference.mean).toBeCloseTo(mean, 9);
      expect(comparison.difference.interval!.low).toBeCloseTo(mean - half, 6);
      expect(comparison.difference.interval!.high).toBeCloseTo(mean + half, 6);
      expect(comparison.selectionMacRatio).toBeNull();
    }
  });

  it("shows the distilling arm's teacher θp* beside the KD claim, where every paired run recorded it", async () => {
    const runs = fixtureSweep();
    const kd = claim(runs, 'kd');
    for (const c of kd.comparisons) {
      const teachers = [0, 1].map(
        (seed) =>
          runs
            .find(
              (r) =>
                r.config.seed === seed &&
                r.config.method.name === 'prunefuse' &&
                r.config.method.prune === 0.5 &&
                r.config.method.kd,
            )!
            .targets.find((t) => t.labelled === c.labelled)!.selectorAccuracy! * 100,
      );
      expect(c.teacherAccuracyPct).toBeCloseTo((teachers[0]! + teachers[1]!) / 2, 9);
    }
    for (const other of ['pruned-selection', 'fusion'] as const) {
      expect(claim(runs, other).comparisons.every((c) => c.teacherAccuracyPct === null)).toBe(true);
    }
    // Records written before θp*'s accuracy was recorded: no teacher figure, not a wrong one.
    const older = runs.map((run) => ({
      ...run,
      targets: run.targets.map(({ selectorAccuracy: _, ...target }) => target),
    }));
    expect(claim(older, 'kd').comparisons.every((c) => c.teacherAccuracyPct === null)).toBe(true);
    const { html } = await composeReport(runs);
    const panel = html.slice(html.indexOf('<section id="claims"'), html.indexOf('</section>'));
    expect(panel.match(/teacher θp\*: \d+\.\d\d%/g)).toHaveLength(kd.comparisons.length);
  });

  it('tests pruned selection against active learning with its selection-MAC ratio', () => {
    const pruned = claim(fixtureSweep(), 'pruned-selection');
    // Every PruneFuse variant against the one active-learning group, at each of 3 budgets.
    expect(new Set(pruned.comparisons.map((c) => c.against))).toEqual(new Set(['active-learning']));
    expect(pruned.comparisons).toHaveLength(5 * 3);
    for (const c of pruned.comparisons) {
      // The fixture's pruned selector costs (1-p)² of the dense one per example.
      expect(c.selectionMacRatio).toBeGreaterThan(0);
      expect(c.selectionMacRatio).toBeLessThan(1);
    }
  });

  it('compares fusion across groups and within runs that trained both targets', () => {
    const fusion = claim(fixtureSweep(), 'fusion');
    expect([...new Set(fusion.comparisons.map((c) => `${c.arm} vs ${c.against}`))]).toEqual([
      'prunefuse p=0.5 vs prunefuse p=0.5 no-fusion',
      'prunefuse p=0.5 (fused target) vs prunefuse p=0.5 (scratch target of the same runs)',
    ]);
  });

  it('gives a verdict from the interval, and from the sign with one seed', () => {
    const seeds = [0, 1, 2, 3, 4];
    const kdRuns = (shift: number, on: readonly number[] = seeds) => [
      ...on.map((seed) =>
        fixtureRun({ method: METHODS.prunefuse(0.5), seed, accuracyShift: shift }),
      ),
      ...on.map((seed) => fixtureRun({ method: METHODS.prunefuse(0.5, { kd: false }), seed })),
    ];
    const verdicts = (runs: RunRecord[]) => claim(runs, 'kd').comparisons.map((c) => c.verdict);
    expect(verdicts(kdRuns(5))).toEqual(['held', 'held', 'held']);
    expect(verdicts(kdRuns(-5))).toEqual(['did not hold', 'did not hold', 'did not hold']);
    const oneSeed = claim(kdRuns(5, [0]), 'kd');
    expect(oneSeed.comparisons.every((c) => c.difference.interval === null)).toBe(true);
    expect(oneSeed.verdict).toBe('held');
    // Whatever the verdict, it follows from the interval.
    for (const c of claimsOf(fixtureSweep()).flatMap((r) => r.comparisons)) {
      const { low, high } = c.difference.interval!;
      if (c.verdict === 'inconclusive') expect(low <= 0 && high >= 0).toBe(true);
      if (c.verdict === 'did not hold' && c.selectionMacRatio === null)
        expect(high).toBeLessThan(0);
      if (c.verdict === 'held' && c.selectionMacRatio === null) expect(low).toBeGreaterThan(0);
      if (c.verdict === 'held' && c.selectionMacRatio !== null)
        expect(high).toBeGreaterThanOrEqual(0);
    }
  });

  it('says "not run" for a claim nothing here compares, and renders every claim', async () => {
    const runs = [0, 1].flatMap((seed) => [
      fixtureRun({ method: METHODS.prunefuse(0.5), seed }),
      fixtureRun({ method: METHODS.activeLearning(), seed }),
    ]);
    const results = claimsOf(runs);
    expect(results.map((r) => [r.id, r.comparisons.length])).toEqual([
      ['pruned-selection', 3],
      ['fusion', 0],
      ['kd', 0],
    ]);
    expect(results.slice(1).map((r) => r.verdict)).toEqual(['not run', 'not run']);

    const { html, claims } = await composeReport(runs.filter((r) => r.config.seed === 0));
    expect(claims.map((c) => c.id)).toEqual(['pruned-selection', 'fusion', 'kd']);
    const panel = html.slice(html.indexOf('<section id="claims"'), html.indexOf('</section>'));
    expect(panel.match(/data-claim="pruned-selection"/g)).toHaveLength(3);
    expect(panel.match(/n = 1: no interval/g)).toHaveLength(3);
    expect(panel).toContain('not run: needs PruneFuse with fusion: [true, false] in its config');
    expect(panel).toContain('not run: needs PruneFuse with kd: [true, false] in its config');
    expect(panel.match(/<td class="verdict not-run">not run<\/td>/g)).toHaveLength(2);
  });

  it('compares only groups whose settings agree beyond the method', () => {
    const runs = [0, 1].flatMap((seed) => [
      fixtureRun({ method: METHODS.prunefuse(0.5), seed }),
      fixtureRun({ method: METHODS.prunefuse(0.5, { kd: false }), seed, targetEpochs: 20 }),
      fixtureRun({ method: METHODS.activeLearning(), seed, targetEpochs: 30 }),
    ]);
    const results = claimsOf(runs);
    expect(results.map((r) => r.verdict)).toEqual(['not run', 'not run', 'not run']);
  });
});
