import type { MethodConfig, RunRecord } from '@prunefuse/results';
import type { GroupSummary } from './aggregate.js';
import { settingsBesideMethod } from './groups.js';
import { budgetMeasurements } from './measurements.js';
import { type Panel, panelTitle } from './panels.js';
import { type Difference, mean, pairedDifference } from './stats.js';

/**
 * The paper's three claims, tested on whatever the report holds: each compares two arms
 * (groups of runs, or two targets of the same runs) at equal budget, paired by seed.
 */
export const CLAIM_IDS = ['pruned-selection', 'fusion', 'kd'] as const;
export type ClaimId = (typeof CLAIM_IDS)[number];

export type Verdict = 'held' | 'did not hold' | 'inconclusive' | 'not run';

export interface ClaimComparison {
  /** experiment · dataset · arch · acquisition, as the section headings. */
  setting: string;
  /** The arm the claim says is better (or no worse), and the arm it is compared with. */
  arm: string;
  against: string;
  labelled: number;
  fraction: number;
  /** arm − against, in accuracy points, over the seeds both ran. */
  difference: Difference;
  /** Selection MACs of the arm over those of the other (pruned-selection only). */
  selectionMacRatio: number | null;
  /**
   * The distilling arm's teacher, θp*, in test accuracy percent over the paired seeds (kd
   * only, where the runs recorded it): a teacher below its student pulls it down.
   */
  teacherAccuracyPct: number | null;
  verdict: Verdict;
}

export interface ClaimResult {
  id: ClaimId;
  title: string;
  /** What is tested, and when it counts as held. */
  statement: string;
  comparisons: ClaimComparison[];
  /** 'not run' when nothing here compares the arms; otherwise the verdicts' tally. */
  verdict: Verdict | 'mixed';
  /** What a sweep needs for this claim, said when it was not run. */
  needs: string;
}

const CLAIMS: Record<ClaimId, { title: string; statement: string; needs: string }> = {
  'pruned-selection': {
    title: 'Pruned selection vs full-model selection',
    statement:
      'PruneFuse’s target is no less accurate than active learning’s (the dense model selects) at the same ' +
      'budget, for fewer selection MACs. Held: ratio below 1 and the interval not wholly below 0 ' +
      '(one seed: a difference of at least 0).',
    needs: 'PruneFuse and active-learning runs with otherwise equal settings',
  },
  fusion: {
    title: 'Fusion vs training from scratch',
    statement:
      'The fused target is more accurate than one trained from scratch on data the same pruned selector chose. ' +
      'Held: the interval wholly above 0 (one seed: a difference above 0); did not hold: wholly below 0 ' +
      '(one seed: at most 0); inconclusive: the interval contains 0.',
    needs: 'PruneFuse with fusion: [true, false] in its config',
  },
  kd: {
    title: 'Distillation vs none',
    statement:
      'Fine-tuning the fused target with distillation from θp* is more accurate than without (the paper: ' +
      '+0.2 to +0.5 points). Held, did not hold and inconclusive as for fusion. The teacher’s own accuracy ' +
      'is shown where the runs recorded it.',
    needs: 'PruneFuse with kd: [true, false] in its config',
  },
};

/** How to read one run's accuracy (0..1) at a budget, for one arm of a comparison. */
type AccuracyAt = (run: RunRecord, labelled: number) => number | undefined;

interface Arm {
  label: string;
  summary: GroupSummary;
  accuracyAt: AccuracyAt;
}

const ownTarget: AccuracyAt = (run, labelled) =>
  budgetMeasurements(run).find((m) => m.labelled === labelled)?.accuracy;

function targetWithInit(init: 'fused' | 'scratch'): AccuracyAt {
  return (run, labelled) =>
    run.targets.find((t) => t.init === init && t.labelled === labelled)?.accuracy;
}

export function testClaims(panels: readonly Panel[]): ClaimResult[] {
  return CLAIM_IDS.map((id) => {
    const comparisons = panels.flatMap((panel) =>
      armPairs(id, panel).flatMap(([arm, against]) => compare(id, panel, arm, against)),
    );
    return { id, ...CLAIMS[id], comparisons, verdict: tally(comparisons) };
  });
}

function tally(comparisons: readonly ClaimComparison[]): ClaimResult['verdict'] {
  const verdicts = new Set(comparisons.map((c) => c.verdict));
  if (verdicts.size === 0) return 'not run';
  return verdicts.size === 1 ? [...verdicts][0]! : 'mixed';
}

function armPairs(id: ClaimId, panel: Panel): [Arm, Arm][] {
  const prunefuse = panel.summaries.filter((s) => s.group.method.name === 'prunefuse');
  const arm = (summary: GroupSummary, accuracyAt = ownTarget, suffix = ''): Arm => ({
    label: summary.group.key.method + suffix,
    summary,
    accuracyAt,
  });
  switch (id) {
    case 'pruned-selection': {
      const dense = panel.summaries.filter((s) => s.group.method.name === 'active-learning');
      return prunefuse.flatMap((p) =>
        dense.filter((d) => sameSettings(p, d)).map((d): [Arm, Arm] => [arm(p), arm(d)]),
      );
    }
    case 'fusion': {
      // A PruneFuse group without fusion, or scratch targets trained beside the fused
      // ones in the same runs (the paper's Figure 4 design).
      const acrossGroups = pairsDifferingIn(prunefuse, 'fusion').map(
        ([fused, scratch]): [Arm, Arm] => [arm(fused), arm(scratch)],
      );
      const withinRuns = prunefuse
        .filter((s) => s.group.runs.some((r) => hasBothInits(r)))
        .map((s): [Arm, Arm] => [
          arm(s, targetWithInit('fused'), ' (fused target)'),
          arm(s, targetWithInit('scratch'), ' (scratch target of the same runs)'),
        ]);
      return [...acrossGroups, ...withinRuns];
    }
    case 'kd':
      return pairsDifferingIn(
        prunefuse.filter((s) => isPrunefuse(s.group.method) && s.group.method.fusion),
        'kd',
      ).map(([withKd, without]): [Arm, Arm] => [arm(withKd), arm(without)]);
  }
}

function isPrunefuse(method: MethodConfig): method is Extract<MethodConfig, { name: 'prunefuse' }> {
  return method.name === 'prunefuse';
}

function hasBothInits(run: RunRecord): boolean {
  const inits = new Set(run.targets.map((t) => t.init));
  return inits.has('fused') && inits.has('scratch');
}

/** Groups whose settings agree except that `option` is on in the first and off in the second. */
function pairsDifferingIn(
  summaries: readonly GroupSummary[],
  option: 'fusion' | 'kd',
): [GroupSummary, GroupSummary][] {
  const pairs: [GroupSummary, GroupSummary][] = [];
  for (const on of summaries) {
    const method = on.group.method;
    if (!isPrunefuse(method) || !method[option]) continue;
    const wanted = JSON.stringify({ ...method, [option]: false });
    for (const off of summaries) {
      if (JSON.stringify(off.group.method) === wanted && sameSettings(on, off)) {
        pairs.push([on, off]);
      }
    }
  }
  return pairs;
}

function sameSettings(a: GroupSummary, b: GroupSummary): boolean {
  return settingsBesideMethod(a.group.runs[0]!) === settingsBesideMethod(b.group.runs[0]!);
}

function compare(id: ClaimId, panel: Panel, arm: Arm, against: Arm): ClaimComparison[] {
  const budgets = arm.summary.budgets.filter((b) =>
    against.summary.budgets.some((o) => o.labelled === b.labelled),
  );
  return budgets.flatMap((budget): ClaimComparison[] => {
    const { differences, seeds } = pairedBySeed(arm, against, budget.labelled);
    if (differences.length === 0) return [];
    const difference = pairedDifference(differences);
    const other = against.summary.budgets.find((b) => b.labelled === budget.labelled)!;
    const selectionMacRatio =
      id === 'pruned-selection' && other.macs.selection > 0
        ? budget.macs.selection / other.macs.selection
        : null;
    return [
      {
        setting: panelTitle(panel),
        arm: arm.label,
        against: against.label,
        labelled: budget.labelled,
        fraction: budget.fraction,
        difference,
        selectionMacRatio,
        teacherAccuracyPct:
          id === 'kd' ? teacherAccuracyPct(arm.summary.group.runs, seeds, budget.labelled) : null,
        verdict: verdict(id, difference, selectionMacRatio),
      },
    ];
  });
}

/** arm − against in accuracy points, one per seed that both arms ran to this budget. */
function pairedBySeed(
  arm: Arm,
  against: Arm,
  labelled: number,
): { differences: number[]; seeds: number[] } {
  const bySeed = (side: Arm) =>
    new Map(
      side.summary.group.runs.flatMap((run) => {
        const accuracy = side.accuracyAt(run, labelled);
        return accuracy === undefined ? [] : [[run.config.seed, accuracy] as const];
      }),
    );
  const others = bySeed(against);
  const paired = [...bySeed(arm)].filter(([seed]) => others.has(seed)).sort(([a], [b]) => a - b);
  return {
    differences: paired.map(([seed, accuracy]) => (accuracy - others.get(seed)!) * 100),
    seeds: paired.map(([seed]) => seed),
  };
}

/** Mean θp* accuracy (percent) of the runs of `seeds` at `labelled`; null unless all recorded it. */
function teacherAccuracyPct(
  runs: readonly RunRecord[],
  seeds: readonly number[],
  labelled: number,
): number | null {
  const accuracies = seeds.map(
    (seed) =>
      runs
        .find((run) => run.config.seed === seed)
        ?.targets.find((t) => t.labelled === labelled && t.kd)?.selectorAccuracy,
  );
  if (accuracies.some((a) => a === undefined)) return null;
  return mean(accuracies as number[]) * 100;
}

function verdict(id: ClaimId, d: Difference, selectionMacRatio: number | null): Verdict {
  if (id === 'pruned-selection') {
    if (selectionMacRatio !== null && selectionMacRatio >= 1) return 'did not hold';
    const worse = d.interval ? d.interval.high < 0 : d.mean < 0;
    return worse ? 'did not hold' : 'held';
  }
  if (!d.interval) return d.mean > 0 ? 'held' : 'did not hold';
  if (d.interval.low > 0) return 'held';
  if (d.interval.high < 0) return 'did not hold';
  return 'inconclusive';
}
