import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunRecord } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import {
  baselineFromRecords,
  DEFAULT_TOLERANCES,
  loadRegressionBaseline,
  type RegressionBaseline,
  writeRegressionBaseline,
} from '../src/baseline.js';
import { type CheckResult, checkAgainstBaseline } from '../src/check.js';
import { type FixtureRun, fixtureRun, fixtureSweep, METHODS } from './fixtures.js';

const recorded = fixtureSweep();
const baseline = baselineFromRecords(recorded, {
  store: 'stores/quick',
  description: 'fixture sweep',
});

/** The fixture sweep again, with some methods' runs altered. */
function sweepWhere(match: (run: RunRecord) => boolean, change: Partial<FixtureRun>): RunRecord[] {
  const changed = fixtureSweep(change);
  return fixtureSweep().map((run, i) => (match(run) ? changed[i]! : run));
}

const isSvp = (run: RunRecord) => run.config.method.name === 'svp';

function statuses(result: CheckResult, method: string): string[] {
  return result.rows.filter((r) => r.key.method === method).map((r) => r.status);
}

describe('baselineFromRecords', () => {
  it('records one entry per group and budget with the default tolerances', () => {
    expect(baseline.defaults).toEqual(DEFAULT_TOLERANCES);
    // 8 selecting or random groups at 3 budgets, full data at one.
    expect(baseline.entries).toHaveLength(8 * 3 + 1);
    const svp = baseline.entries.find((e) => e.method === 'svp resnet8' && e.budget === 1000)!;
    expect(svp).toMatchObject({
      experiment: 'quick',
      dataset: 'cifar10',
      arch: 'resnet20',
      acquisition: 'least-confidence',
      fraction: 0.2,
      seeds: [0, 1],
    });
    const runs = recorded.filter(isSvp);
    expect(svp.accuracyPct).toBeCloseTo(
      ((runs[0]!.targets[1]!.accuracy + runs[1]!.targets[1]!.accuracy) / 2) * 100,
      3,
    );
    expect(svp.params).toEqual(runs[0]!.params);
    expect(baseline.createdFrom).toMatchObject({ store: 'stores/quick', runs: recorded.length });
  });

  it('widens the accuracy band of an entry whose seeds disagree more than the default absorbs', () => {
    const noisy = [0, 1].map((seed) =>
      fixtureRun({ method: METHODS.svp(), seed, accuracyShift: seed === 0 ? 4 : -4 }),
    );
    const [entry] = baselineFromRecords(noisy, { store: 's', description: 'd' }).entries;
    const std = entry!.accuracyStdPct!;
    expect(std).toBeGreaterThan(4);
    // 3 standard errors of the difference of two 2-seed means, rounded up to half a point.
    expect(entry!.tolerance).toEqual({
      accuracyDropPoints: Math.ceil(3 * std * Math.sqrt(2 / 2) * 2) / 2,
    });
    const quiet = baseline.entries.filter(
      (e) => e.accuracyStdPct !== null && e.accuracyStdPct < 0.4,
    );
    expect(quiet.length).toBeGreaterThan(0);
    for (const e of quiet) expect(e.tolerance).toBeUndefined();
  });
});

describe('checkAgainstBaseline', () => {
  it('passes a store that reproduces the baseline', () => {
    const result = checkAgainstBaseline(fixtureSweep(), baseline);
    expect(result.ok).toBe(true);
    expect(result.counts).toEqual({
      pass: baseline.entries.length,
      regressed: 0,
      missing: 0,
      improved: 0,
      invalid: 0,
    });
    expect(result.problems).toEqual([]);
    expect(result.unbaselined).toEqual([]);
    const row = result.rows[0]!;
    expect(row.metrics.map((m) => m.metric)).toEqual([
      'accuracyPct',
      'macs.selection',
      'macs.targetTraining',
      'macs.total',
      'params.target',
    ]);
  });

  it('passes small accuracy and MAC movements inside the tolerances', () => {
    const result = checkAgainstBaseline(
      sweepWhere(isSvp, { accuracyShift: -1, macsScale: 1.005 }),
      baseline,
    );
    expect(result.ok).toBe(true);
    const accuracy = result.rows.find((r) => r.key.method === 'svp resnet8')!.metrics[0]!;
    expect(accuracy.delta).toBeCloseTo(-1, 3);
  });

  it('fails an accuracy loss beyond the tolerance', () => {
    const result = checkAgainstBaseline(sweepWhere(isSvp, { accuracyShift: -5 }), baseline);
    expect(result.ok).toBe(false);
    expect(statuses(result, 'svp resnet8')).toEqual(['regressed', 'regressed', 'regressed']);
    expect(result.counts.regressed).toBe(3);
    const accuracy = result.rows.find((r) => r.key.method === 'svp resnet8')!.metrics[0]!;
    expect(accuracy).toMatchObject({
      metric: 'accuracyPct',
      status: 'regressed',
      tolerance: 2,
      toleranceUnit: 'points',
    });
    expect(accuracy.delta).toBeCloseTo(-5, 3);
    // MACs did not move, so only accuracy is blamed.
    expect(
      result.rows
        .find((r) => r.key.method === 'svp resnet8')!
        .metrics.slice(1)
        .map((m) => m.status),
    ).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('reads a drop of exactly the tolerance from a 4-decimal baseline as a pass, a hair more as a loss', () => {
    // Baselines store accuracy rounded to 4 decimals: one recorded 2 points above this sweep
    // may sit up to 0.00005 further away than 2 (60.6667 for 60.66666...).
    const above = (points: number) =>
      baselineFromRecords(fixtureSweep({ accuracyShift: points }), {
        store: 'stores/quick',
        description: 'fixture sweep, shifted',
      });
    const deltas = (result: CheckResult) => result.rows.map((r) => r.metrics[0]!.delta!);
    const atTolerance = checkAgainstBaseline(recorded, above(2));
    expect(Math.min(...deltas(atTolerance))).toBeLessThan(-2);
    expect(atTolerance.counts.regressed).toBe(0);
    const beyond = checkAgainstBaseline(recorded, above(2.001));
    expect(beyond.counts.regressed).toBe(beyond.rows.length);
  });

  it('fails added MACs beyond the tolerance, phase by phase', () => {
    const result = checkAgainstBaseline(sweepWhere(isSvp, { macsScale: 1.05 }), baseline);
    expect(result.ok).toBe(false);
    expect(statuses(result, 'svp resnet8')).toEqual(['regressed', 'regressed', 'regressed']);
    const row = result.rows.find((r) => r.key.method === 'svp resnet8')!;
    const byMetric = new Map(row.metrics.map((m) => [m.metric, m]));
    expect(byMetric.get('accuracyPct')!.status).toBe('pass');
    for (const metric of ['macs.selection', 'macs.targetTraining', 'macs.total'] as const) {
      expect(byMetric.get(metric)).toMatchObject({
        status: 'regressed',
        tolerance: 1,
        toleranceUnit: 'percent',
      });
      expect(byMetric.get(metric)!.deltaPct).toBeCloseTo(5, 6);
    }
    expect(statuses(result, 'prunefuse p=0.5')).toEqual(['pass', 'pass', 'pass']);
  });

  it('fails compute where the baseline did none', () => {
    const random = baseline.entries.find((e) => e.method === 'random')!;
    expect(random.macs.selection).toBe(0);
    const zeroed: RegressionBaseline = {
      ...baseline,
      entries: baseline.entries.map((e) =>
        e.method === 'svp resnet8' && e.budget === 500
          ? { ...e, macs: { ...e.macs, selection: 0 } }
          : e,
      ),
    };
    const row = checkAgainstBaseline(fixtureSweep(), zeroed).rows.find(
      (r) => r.key.method === 'svp resnet8' && r.key.budget === 500,
    )!;
    expect(row.status).toBe('regressed');
    expect(row.metrics[1]).toMatchObject({
      metric: 'macs.selection',
      deltaPct: null,
      status: 'regressed',
    });
  });

  it('fails a grown network even by one parameter', () => {
    const grown = fixtureSweep().map((run) =>
      run.config.method.name === 'active-learning'
        ? { ...run, params: { ...run.params, target: run.params.target + 1 } }
        : run,
    );
    const result = checkAgainstBaseline(grown, baseline);
    expect(statuses(result, 'active-learning')).toEqual(['regressed', 'regressed', 'regressed']);
  });

  it('fails when a seed of a baseline entry was not run', () => {
    const withoutSeed = fixtureSweep().filter((run) => !(isSvp(run) && run.config.seed === 1));
    const result = checkAgainstBaseline(withoutSeed, baseline);
    expect(result.ok).toBe(false);
    expect(statuses(result, 'svp resnet8')).toEqual(['missing', 'missing', 'missing']);
    const row = result.rows.find((r) => r.key.method === 'svp resnet8')!;
    expect(row.seeds).toEqual({ baseline: [0, 1], measured: [0], missing: [1], notCompared: [] });
  });

  it('compares the baseline’s own seeds only, when the store has gained more', () => {
    const oneSeed = baselineFromRecords(fixtureSweep(undefined, [0]), {
      store: 'stores/quick',
      description: 'seed 0',
    });
    // seed 1 far off: with it in the mean, every entry would move by 6 points
    const extended = [
      ...fixtureSweep(undefined, [0]),
      ...fixtureSweep({ accuracyShift: -12 }, [1]),
    ];
    const result = checkAgainstBaseline(extended, oneSeed);
    expect(result.ok).toBe(true);
    expect(result.counts.pass).toBe(oneSeed.entries.length);
    for (const row of result.rows) {
      expect(row.seeds).toEqual({ baseline: [0], measured: [0], missing: [], notCompared: [1] });
      expect(row.metrics.find((m) => m.metric === 'accuracyPct')!.delta).toBeCloseTo(0, 3);
    }
    // a change on the baseline's seed still shows
    const changed = [
      ...fixtureSweep({ accuracyShift: -3 }, [0]),
      ...fixtureSweep({ accuracyShift: 3 }, [1]),
    ];
    expect(checkAgainstBaseline(changed, oneSeed).counts.regressed).toBe(oneSeed.entries.length);
  });

  it('fails when a whole group of the baseline was not run', () => {
    const result = checkAgainstBaseline(
      fixtureSweep().filter((run) => !isSvp(run)),
      baseline,
    );
    expect(result.ok).toBe(false);
    expect(result.counts.missing).toBe(3);
    const row = result.rows.find((r) => r.key.method === 'svp resnet8')!;
    expect(row.seeds.measured).toEqual([]);
    expect(row.metrics.every((m) => m.status === 'missing' && m.measured === null)).toBe(true);
  });

  it('passes, but reports, an improvement and groups the baseline does not know', () => {
    const records = [
      ...sweepWhere(isSvp, { accuracyShift: 5 }),
      fixtureRun({ method: METHODS.prunefuse(0.9), seed: 0 }),
    ];
    const result = checkAgainstBaseline(records, baseline);
    expect(result.ok).toBe(true);
    expect(statuses(result, 'svp resnet8')).toEqual(['improved', 'improved', 'improved']);
    expect(result.unbaselined).toEqual([
      'quick | cifar10 | resnet20 | prunefuse p=0.9 | least-confidence | b=1000',
      'quick | cifar10 | resnet20 | prunefuse p=0.9 | least-confidence | b=1500',
      'quick | cifar10 | resnet20 | prunefuse p=0.9 | least-confidence | b=500',
    ]);
  });

  it('fails a non-finite accuracy instead of comparing it (NaN is never a pass)', () => {
    const records = structuredClone(fixtureSweep());
    const svp = records.find(isSvp)!;
    svp.targets[0]!.accuracy = Number.NaN;
    const result = checkAgainstBaseline(records, baseline);
    expect(result.ok).toBe(false);
    const row = result.rows.find(
      (r) => r.key.method === 'svp resnet8' && r.key.budget === svp.targets[0]!.labelled,
    )!;
    expect(row.status).toBe('invalid');
    expect(row.metrics[0]).toMatchObject({ metric: 'accuracyPct', status: 'invalid' });
    expect(result.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run ${svp.id} \\(svp .*\\): targets\\[0\\] \\(\\d+ labelled\\)\\.accuracy is NaN, expected a share in \\[0, 1\\]$`,
        ),
      ),
    ]);
    // the run is unsound at every budget it measured
    expect(result.counts.invalid).toBe(3);
  });

  it('fails an accuracy outside [0, 1] and negative compute, even in groups the baseline does not know', () => {
    const unknown = fixtureRun({ method: METHODS.prunefuse(0.9), seed: 0 });
    unknown.targets[1]!.accuracy = 1.7;
    unknown.macs.poolScoring = -1;
    const result = checkAgainstBaseline([...fixtureSweep(), unknown], baseline);
    expect(result.ok).toBe(false);
    expect(result.rows.every((r) => r.status === 'pass')).toBe(true);
    expect(result.problems).toEqual([
      expect.stringContaining(
        'targets[1] (1000 labelled).accuracy is 1.7, expected a share in [0, 1]',
      ),
      expect.stringContaining('macs.poolScoring is -1, expected a MAC count >= 0'),
    ]);
  });

  it('fails a run whose training diverged, whatever its accuracy', () => {
    const records = structuredClone(fixtureSweep());
    const svp = records.find(isSvp)!;
    svp.targets[2]!.diverged = { reason: "final training loss 9.1 above the first epoch's 2.3" };
    const result = checkAgainstBaseline(records, baseline);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /targets\[2\] \(\d+ labelled\) diverged: final training loss 9\.1 above the first epoch's 2\.3$/,
      ),
    ]);
    // every row holding that run is marked, not only the diverged budget's
    expect(statuses(result, 'svp resnet8')).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('applies a per-entry tolerance over the file default', () => {
    const lenient: RegressionBaseline = {
      ...baseline,
      entries: baseline.entries.map((e) =>
        e.method === 'svp resnet8' ? { ...e, tolerance: { accuracyDropPoints: 6 } } : e,
      ),
    };
    const result = checkAgainstBaseline(sweepWhere(isSvp, { accuracyShift: -5 }), lenient);
    expect(result.ok).toBe(true);
    expect(result.rows.find((r) => r.key.method === 'svp resnet8')!.metrics[0]!.tolerance).toBe(6);
  });
});

describe('checkAgainstBaseline on another backend', () => {
  /** The fixture sweep as webgpu runs, each method's accuracies moved by its own shift. */
  function onWebgpu(shift: (method: string) => number, change: Partial<FixtureRun> = {}) {
    return fixtureSweep({ backend: 'webgpu' }).map((run) =>
      fixtureRun({
        method: run.config.method,
        seed: run.config.seed,
        backend: 'webgpu',
        rankAgreement: run.rounds.some((r) => r.rankAgreement !== undefined),
        scratchComparison:
          run.targets.some((t) => t.init === 'scratch') && run.config.method.name === 'prunefuse',
        accuracyShift: shift(run.config.method.name),
        ...change,
      }),
    );
  }
  // Entries scattered as float rounding scatters them on quick-ci: -8 to +8, mean about 0.
  const scatter: Record<string, number> = {
    random: 7,
    'active-learning': -8,
    svp: 8,
    prunefuse: -3,
    full: 0,
  };

  it('shows each entry but gates the mean: a scatter of ±8 points around the baseline passes', () => {
    const result = checkAgainstBaseline(
      onWebgpu((m) => scatter[m]!),
      baseline,
    );
    expect(result.accuracyAcrossBackends).toMatchObject({
      baselineBackends: ['wasm (XNNPACK SIMD, 1 thread)'],
      measuredBackends: ['webgpu (llvmpipe (Vulkan))'],
      status: 'pass',
      tolerancePoints: 2,
    });
    expect(result.accuracyAcrossBackends!.groups).toHaveLength(9);
    expect(result.ok).toBe(true);
    const al = result.rows.filter((r) => r.key.method === 'active-learning');
    expect(al.map((r) => r.accuracyGate)).toEqual(Array(3).fill('mean across backends'));
    // The entry's own view is kept for the reader; only the row status ignores it.
    expect(al.map((r) => r.metrics[0]!.status)).toEqual(['regressed', 'regressed', 'regressed']);
    expect(al.map((r) => r.status)).toEqual(['pass', 'pass', 'pass']);
  });

  it('the same scatter on the baseline backend fails entry by entry', () => {
    const wasm = onWebgpu((m) => scatter[m]!, { backend: 'wasm' });
    const result = checkAgainstBaseline(wasm, baseline);
    expect(result.accuracyAcrossBackends).toBeNull();
    expect(result.ok).toBe(false);
    expect(statuses(result, 'active-learning')).toEqual(['regressed', 'regressed', 'regressed']);
  });

  it('gates the mean too for the same backend on another device', () => {
    const otherCpu = onWebgpu((m) => scatter[m]!, { backend: 'wasm' }).map((run) => ({
      ...run,
      environment: { ...run.environment, device: 'XNNPACK SIMD, 4 threads' },
    }));
    const result = checkAgainstBaseline(otherCpu, baseline);
    expect(result.accuracyAcrossBackends?.measuredBackends).toEqual([
      'wasm (XNNPACK SIMD, 4 threads)',
    ]);
    expect(result.ok).toBe(true);
  });

  it('fails a backend that learns worse across the board, though no entry alone is far off', () => {
    const result = checkAgainstBaseline(
      onWebgpu(() => -4),
      baseline,
    );
    expect(result.ok).toBe(false);
    const across = result.accuracyAcrossBackends!;
    expect(across.status).toBe('regressed');
    expect(across.meanDeltaPoints).toBeCloseTo(-4, 1);
    expect(across.upperBoundPoints!).toBeLessThan(-2);
    // No row is blamed for accuracy: the failure is the mean's.
    expect(result.counts.regressed).toBe(0);
  });

  it('passes a consistent drop within the tolerance, and a loss whose spread leaves it unsure', () => {
    expect(
      checkAgainstBaseline(
        onWebgpu(() => -1.5),
        baseline,
      ).ok,
    ).toBe(true);
    // Mean -3, but groups from -11 to +5: the bound reaches above -2.
    const unsure = checkAgainstBaseline(
      onWebgpu((m) => (m === 'prunefuse' ? -11 : m === 'full' ? 5 : 3)),
      baseline,
    );
    expect(unsure.accuracyAcrossBackends!.meanDeltaPoints!).toBeLessThan(-2);
    expect(unsure.accuracyAcrossBackends!.upperBoundPoints!).toBeGreaterThan(-2);
    expect(unsure.ok).toBe(true);
  });

  it('still holds MACs and parameters entry by entry', () => {
    const result = checkAgainstBaseline(
      onWebgpu(() => 0).map((run) =>
        run.config.method.name === 'svp'
          ? fixtureRun({
              method: run.config.method,
              seed: run.config.seed,
              backend: 'webgpu',
              macsScale: 1.05,
            })
          : run,
      ),
      baseline,
    );
    expect(result.ok).toBe(false);
    expect(statuses(result, 'svp resnet8')).toEqual(['regressed', 'regressed', 'regressed']);
    expect(result.accuracyAcrossBackends!.status).toBe('pass');
  });
});

describe('baseline files', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'prunefuse-baseline-'));

  it('round-trips through the file', () => {
    const file = path.join(dir(), 'baselines', 'quick.json');
    writeRegressionBaseline(file, baseline);
    expect(loadRegressionBaseline(file)).toEqual(baseline);
  });

  it('names the file and field of an invalid entry', () => {
    const file = path.join(dir(), 'quick.json');
    const broken = structuredClone(baseline) as unknown as {
      entries: { macs: Record<string, unknown> }[];
    };
    broken.entries[2]!.macs.total = -1;
    writeFileSync(file, JSON.stringify(broken));
    expect(() => loadRegressionBaseline(file)).toThrow(
      new RegExp(`${file}: not a valid regression baseline:\\n  entries\\[2\\]\\.macs\\.total: `),
    );
  });

  it('refuses two entries with the same key', () => {
    const file = path.join(dir(), 'quick.json');
    const doubled = { ...baseline, entries: [...baseline.entries, baseline.entries[4]] };
    writeFileSync(file, JSON.stringify(doubled));
    expect(() => loadRegressionBaseline(file)).toThrow(/entries\[25\] repeats entries\[4\]/);
    expect(JSON.parse(readFileSync(file, 'utf8')).entries).toHaveLength(26);
  });
});
