import type { MethodConfig } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { summarizeRuns } from '../src/aggregate.js';
import { groupRuns } from '../src/groups.js';
import { budgetMeasurements } from '../src/measurements.js';
import { methodLabel } from '../src/method-label.js';
import { panelsOf } from '../src/panels.js';
import { resultTable } from '../src/results-table.js';
import { summarize } from '../src/stats.js';
import { fixtureRun, fixtureSweep, METHODS } from './fixtures.js';

describe('summarize', () => {
  it('gives the mean and the sample (n - 1) standard deviation', () => {
    const stat = summarize([1, 2, 3, 4]);
    expect(stat.mean).toBe(2.5);
    expect(stat.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(stat.n).toBe(4);
  });

  it('reports no spread for a single seed and refuses no values', () => {
    expect(summarize([93.69])).toEqual({ mean: 93.69, std: null, n: 1 });
    expect(() => summarize([])).toThrow(/no values/);
  });
});

describe('methodLabel', () => {
  const of = (method: MethodConfig) => ({
    method,
    arch: 'resnet20',
    targetTraining: fixtureRun({ method, seed: 0 }).config.targetTraining,
  });
  it('names the options that distinguish a method and leaves the paper defaults out', () => {
    expect(methodLabel(of(METHODS.prunefuse(0.5)))).toBe('prunefuse p=0.5');
    expect(methodLabel(of(METHODS.prunefuse(0.5, { kd: false })))).toBe('prunefuse p=0.5 no-KD');
    expect(methodLabel(of(METHODS.prunefuse(0.7, { fusion: false })))).toBe(
      'prunefuse p=0.7 no-fusion',
    );
    expect(methodLabel(of(METHODS.prunefuse(0.5, { fill: 'zero' })))).toBe(
      'prunefuse p=0.5 fill=zero',
    );
    expect(methodLabel(of(METHODS.prunefuse(0.5, { criterion: 'snip' })))).toBe(
      'prunefuse p=0.5 snip',
    );
    expect(methodLabel(of(METHODS.prunefuse(0.5, { kdLambda: 0.3, kdTemperature: 2 })))).toBe(
      'prunefuse p=0.5 λ=0.3 T=2',
    );
    expect(methodLabel(of(METHODS.prunefuse(0.5, { kd: false })), { omitPrune: true })).toBe(
      'prunefuse no-KD',
    );
    expect(methodLabel(of(METHODS.svp()))).toBe('svp resnet8');
    expect(methodLabel(of(METHODS.activeLearning()))).toBe('active-learning');
    expect(methodLabel(of(METHODS.full()))).toBe('full');
  });

  it('says which SVP proxy ran: a smaller network, truncated training, or both', () => {
    const svp = (proxyArch: string, epochs: number): MethodConfig => ({
      name: 'svp',
      proxyArch,
      proxyTraining: { ...of(METHODS.random()).targetTraining, epochs },
    });
    expect(methodLabel(of(svp('resnet20', 12)))).toBe('svp');
    expect(methodLabel(of(svp('resnet20', 4)))).toBe('svp truncated 4 ep');
    expect(methodLabel(of(svp('resnet8', 4)))).toBe('svp resnet8 truncated 4 ep');
  });
});

describe('groupRuns', () => {
  it('puts the seeds of one configuration together, references first, then in paper order', () => {
    const groups = groupRuns(fixtureSweep({}, [2, 0, 1]));
    expect(groups.map((g) => g.key.method)).toEqual([
      'random',
      'full',
      'active-learning',
      'svp resnet8',
      'prunefuse p=0.5',
      'prunefuse p=0.5 no-fusion',
      'prunefuse p=0.5 no-KD',
      'prunefuse p=0.7',
      'prunefuse p=0.8',
    ]);
    for (const group of groups) expect(group.runs.map((r) => r.config.seed)).toEqual([0, 1, 2]);
  });

  it('splits runs that differ in a setting outside the label and names the setting', () => {
    const runs = [12, 20].flatMap((targetEpochs) =>
      [0, 1].map((seed) => fixtureRun({ method: METHODS.prunefuse(0.5), seed, targetEpochs })),
    );
    const groups = groupRuns(runs);
    expect(groups.map((g) => [g.key.method, g.runs.length])).toEqual([
      ['prunefuse p=0.5 (targetTraining.epochs=12)', 2],
      ['prunefuse p=0.5 (targetTraining.epochs=20)', 2],
    ]);
    expect(groups[0]!.ablationSeries).toBe('prunefuse (targetTraining.epochs=12)');
  });

  it('pools random runs whatever acquisition their config names, since random never consults it', () => {
    const runs = [
      fixtureRun({ method: METHODS.random(), seed: 0, acquisition: 'entropy' }),
      fixtureRun({ method: METHODS.random(), seed: 1, acquisition: 'least-confidence' }),
    ];
    const groups = groupRuns(runs);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.key.acquisition).toBeNull();
  });
});

describe('budget measurements and summaries', () => {
  it('counts selection MACs up to each budget from the rounds that produced it', () => {
    const run = fixtureRun({ method: METHODS.prunefuse(0.5), seed: 0 });
    const [r250, r500] = run.rounds;
    const at500 = budgetMeasurements(run).find((m) => m.labelled === 500)!;
    const target = run.targets.find((t) => t.labelled === 500 && t.init === 'fused')!;
    // The round at 500 selects with the θp* the target at 500 trained and paid for.
    expect(r500!.labelled).toBe(500);
    expect(r500!.macs.selectorTraining).toBe(0);
    expect(target.selectorTrainingMacs).toBeGreaterThan(0);
    expect(at500.macs.selection).toBe(
      r250!.macs.selectorTraining + r250!.macs.poolScoring + target.selectorTrainingMacs,
    );
    expect(at500.macs.targetTraining).toBe(target.macs);
    expect(at500.macs.total).toBe(at500.macs.selection + target.macs);
    // At the last budget every round and every target's θp* counts.
    const last = budgetMeasurements(run).at(-1)!;
    expect(last.macs.selection).toBe(run.macs.selectorTraining + run.macs.poolScoring);
  });

  it('charges a baseline nothing for a selector it does not use at a budget', () => {
    const run = fixtureRun({ method: METHODS.activeLearning(), seed: 0 });
    const at500 = budgetMeasurements(run).find((m) => m.labelled === 500)!;
    const before500 = run.rounds.filter((r) => r.labelled < 500);
    expect(run.targets.every((t) => t.selectorTrainingMacs === 0)).toBe(true);
    expect(at500.macs.selection).toBe(
      before500.reduce((t, r) => t + r.macs.selectorTraining + r.macs.poolScoring, 0),
    );
  });

  it("takes the method's own target, not a comparison target trained beside it", () => {
    const run = fixtureRun({ method: METHODS.prunefuse(0.5), seed: 0, scratchComparison: true });
    const fused = run.targets.filter((t) => t.init === 'fused').map((t) => t.accuracy);
    expect(budgetMeasurements(run).map((m) => m.accuracy)).toEqual(fused);
  });

  it('refuses a run with two targets of one kind at one budget, naming the run', () => {
    const run = fixtureRun({ method: METHODS.random(), seed: 0 });
    run.targets.push({ ...run.targets[0]! });
    expect(() => budgetMeasurements(run)).toThrow(
      new RegExp(`run ${run.id}: two scratch targets at 500`),
    );
  });

  it('averages accuracy over seeds in percent', () => {
    const runs = [0, 1, 2].map((seed) => fixtureRun({ method: METHODS.svp(), seed }));
    const [summary] = summarizeRuns(runs);
    const accuracies = runs.map((r) => r.targets[1]!.accuracy * 100);
    const b1000 = summary!.budgets[1]!;
    expect(b1000.labelled).toBe(1000);
    expect(b1000.accuracyPct.mean).toBeCloseTo(accuracies.reduce((a, b) => a + b) / 3, 10);
    expect(b1000.accuracyPct.std).toBeCloseTo(summarize(accuracies).std!, 10);
    expect(b1000.seeds).toEqual([0, 1, 2]);
    expect(summary!.params.selector).toBe(runs[0]!.params.selector);
  });
});

describe('panels and the paper-style table', () => {
  it('shows random and full-data rows beside every acquisition function', () => {
    const records = [
      ...fixtureSweep({ acquisition: 'least-confidence' }),
      fixtureRun({ method: METHODS.prunefuse(0.5), seed: 0, acquisition: 'entropy' }),
    ];
    const panels = panelsOf(summarizeRuns(records));
    expect(panels.map((p) => p.acquisition)).toEqual(['entropy', 'least-confidence']);
    expect(panels[0]!.summaries.map((s) => s.group.key.method)).toEqual([
      'random',
      'prunefuse p=0.5',
      'full',
    ]);
  });

  it('lays out methods by budgets and shades a best mean only where it leads by more than the spread', () => {
    const [panel] = panelsOf(summarizeRuns(fixtureSweep()));
    const table = resultTable(panel!);
    expect(table.columns.map((c) => c.labelled)).toEqual([500, 1000, 1500, 5000]);
    expect(table.columns[0]!.fraction).toBeCloseTo(0.1, 12);
    for (const [column] of table.columns.entries()) {
      const cells = table.rows.flatMap((r) => (r.cells[column] ? [r.cells[column]!] : []));
      const [top, runnerUp] = [...cells].sort((a, b) => b.mean - a.mean);
      const best = cells.filter((c) => c.best);
      if (!runnerUp) {
        // Only the full-data run reaches 100%: there is nothing to be best against.
        expect(best).toEqual([]);
        continue;
      }
      const leads = top!.mean - runnerUp.mean > Math.max(top!.std!, runnerUp.std!);
      expect(best).toEqual(leads ? [top] : []);
    }
    const random = table.rows.find((r) => r.method === 'random')!;
    expect(random.cells[0]!.n).toBe(2);
    expect(random.cells[3]).toBeNull();
  });

  it('shades no method where the best means tie', () => {
    const runs = [0, 1].flatMap((seed) => {
      const [random, activeLearning] = [METHODS.random(), METHODS.activeLearning()].map((method) =>
        fixtureRun({ method, seed }),
      );
      activeLearning!.targets = random!.targets.map((t) => ({ ...t }));
      return [random!, activeLearning!];
    });
    const [panel] = panelsOf(summarizeRuns(runs));
    const table = resultTable(panel!);
    expect(table.rows.map((r) => r.cells.map((c) => c?.best))).toEqual([
      [false, false, false],
      [false, false, false],
    ]);
  });
});
