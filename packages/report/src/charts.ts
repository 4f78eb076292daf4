import type { TopLevelSpec } from 'vega-lite';
import type { GroupSummary } from './aggregate.js';
import type { Panel } from './panels.js';
import { mean } from './stats.js';

/** One figure of a report section, before rendering. */
export interface Chart {
  /** What the figure shows, stable across reports: the browser test counts figures by it. */
  kind: ChartKind;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

export type ChartKind =
  | 'accuracy-vs-budget'
  | 'accuracy-vs-macs'
  | 'round-curves'
  | 'pruning-ablation'
  | 'convergence'
  | 'rank-agreement';

const WIDTH = 380;
const HEIGHT = 240;
const FACET_WIDTH = 240;

type Row = Record<string, string | number | null>;

/**
 * The figures of one panel. Each appears only when its data is there: a budget reached
 * (below the full training set, for the budget axis), a pruning-ratio sweep, fused and
 * scratch targets side by side, recorded rank agreement.
 */
export function panelCharts(panel: Panel): Chart[] {
  const methods = panel.summaries.map((s) => s.group.key.method);
  const charts = [
    accuracyVsBudget(panel, methods),
    accuracyVsMacs(panel, methods),
    roundCurves(panel, methods),
    pruningAblation(panel),
    convergence(panel),
    rankAgreement(panel, methods),
  ];
  return charts.filter((c): c is Chart => c !== null);
}

/**
 * One colour per method, fixed by its place in the panel's table, so that a method looks
 * the same in every figure even where only some methods have data (the legend lists
 * only those).
 */
function methodColor(methods: readonly string[], present: ReadonlySet<unknown>) {
  return {
    field: 'method',
    type: 'nominal',
    title: 'method',
    scale: { domain: [...methods], scheme: 'tableau10' },
    legend: { values: methods.filter((m) => present.has(m)) },
  } as const;
}

function present(values: readonly Row[], field = 'method'): Set<unknown> {
  return new Set(values.map((v) => v[field]));
}

/** Legends show whole method labels; Vega cuts them at 160 px by default. */
const CONFIG = { legend: { labelLimit: 400 } } as const;

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

function accuracyVsBudget(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = panel.summaries
    .filter((s) => s.group.method.name !== 'full')
    .flatMap((s) =>
      s.budgets.map((b) => ({
        method: s.group.key.method,
        budget: b.fraction * 100,
        accuracy: b.accuracyPct.mean,
        low: b.accuracyPct.mean - (b.accuracyPct.std ?? 0),
        high: b.accuracyPct.mean + (b.accuracyPct.std ?? 0),
      })),
    );
  // Full data is one point at 100%; drawn as a level it bounds the curves without
  // squeezing the budgets that were swept into the left of the axis.
  const references: Row[] = panel.summaries
    .filter((s) => s.group.method.name === 'full')
    .flatMap((s) =>
      s.budgets.map((b) => ({ method: s.group.key.method, accuracy: b.accuracyPct.mean })),
    );
  if (values.length === 0) return null;
  const color = methodColor(methods, present([...values, ...references]));
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'test accuracy (%)',
    scale: { zero: false },
  } as const;
  const x = {
    field: 'budget',
    type: 'quantitative',
    title: 'labelling budget (% of training set)',
  } as const;
  return {
    kind: 'accuracy-vs-budget',
    title: 'Accuracy vs labelling budget',
    caption:
      'Test accuracy of each method’s final target at each budget; mean over seeds, bars ±1 std. ' +
      'Dashed level: training on the full training set, where run.',
    spec: {
      config: CONFIG,
      width: WIDTH,
      height: HEIGHT,
      layer: [
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: { x, y, color },
        },
        {
          data: { values },
          mark: { type: 'rule' },
          encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
        },
        ...(references.length
          ? [
              {
                data: { values: references },
                mark: { type: 'rule' as const, strokeDash: [6, 4] },
                encoding: { y, color },
              },
            ]
          : []),
      ],
    },
  };
}

const MAC_PHASES = ['selection', 'target training', 'total'] as const;

function accuracyVsMacs(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = panel.summaries.flatMap((s) =>
    s.budgets.flatMap((b) =>
      MAC_PHASES.map((phase) => ({
        method: s.group.key.method,
        phase,
        budget: b.labelled,
        accuracy: b.accuracyPct.mean,
        macs:
          phase === 'selection'
            ? b.macs.selection
            : phase === 'total'
              ? b.macs.total
              : b.macs.targetTraining,
      })),
    ),
  );
  if (values.length === 0) return null;
  return {
    kind: 'accuracy-vs-macs',
    title: 'Accuracy vs compute spent',
    caption:
      'Each point is one budget. Selection: selector training in every round up to the budget plus pool ' +
      'scoring in the rounds that chose its examples. Target training: training (or fine-tuning) the final ' +
      'target at that budget, KD teacher forwards included. Total: their sum.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { column: { field: 'phase', type: 'nominal', sort: [...MAC_PHASES], title: null } },
      spec: {
        width: FACET_WIDTH,
        height: HEIGHT,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'macs', type: 'quantitative', title: 'MACs', axis: { format: '~s' } },
          y: {
            field: 'accuracy',
            type: 'quantitative',
            title: 'test accuracy (%)',
            scale: { zero: false },
          },
          order: { field: 'budget', type: 'quantitative' },
          color: methodColor(methods, present(values)),
        },
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

/** Selector accuracy each round beside the target accuracy at each budget, means over seeds. */
function roundCurves(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = [];
  for (const summary of panel.summaries) {
    const method = summary.group.key.method;
    const byLabelled = new Map<number, number[]>();
    for (const run of summary.group.runs) {
      for (const round of run.rounds) {
        if (round.selectorAccuracy === null) continue;
        byLabelled.set(round.labelled, [
          ...(byLabelled.get(round.labelled) ?? []),
          round.selectorAccuracy,
        ]);
      }
    }
    for (const [labelled, accuracies] of byLabelled) {
      values.push({ method, curve: 'selector', labelled, accuracy: mean(accuracies) * 100 });
    }
    if (byLabelled.size === 0) continue;
    for (const b of summary.budgets) {
      values.push({ method, curve: 'target', labelled: b.labelled, accuracy: b.accuracyPct.mean });
    }
  }
  if (values.length === 0) return null;
  return {
    kind: 'round-curves',
    title: 'Selector and target accuracy per round',
    caption:
      'Solid: the selector (θp for PruneFuse, the proxy for SVP, θ for active learning) after training ' +
      'on each round’s labelled set. Dashed: the final target at each budget. Means over seeds.',
    spec: {
      config: CONFIG,
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'labelled', type: 'quantitative', title: 'labelled examples' },
        y: {
          field: 'accuracy',
          type: 'quantitative',
          title: 'test accuracy (%)',
          scale: { zero: false },
        },
        color: methodColor(methods, present(values)),
        strokeDash: {
          field: 'curve',
          type: 'nominal',
          title: 'model',
          sort: ['selector', 'target'],
        },
        order: { field: 'labelled', type: 'quantitative' },
      },
    },
  };
}

/** Accuracy and selection cost against the pruning ratio p, one line per budget. */
function pruningAblation(panel: Panel): Chart | null {
  const prunefuse = panel.summaries.filter((s) => s.group.method.name === 'prunefuse');
  const ratios = new Map<string, Set<number>>();
  for (const s of prunefuse) {
    const p = s.group.method.name === 'prunefuse' ? s.group.method.prune : 0;
    ratios.set(s.group.ablationSeries, (ratios.get(s.group.ablationSeries) ?? new Set()).add(p));
  }
  const swept = new Set([...ratios].filter(([, ps]) => ps.size > 1).map(([series]) => series));
  if (swept.size === 0) return null;
  const values: Row[] = prunefuse
    .filter((s) => swept.has(s.group.ablationSeries))
    .flatMap((s) =>
      s.budgets.map((b) => ({
        variant: s.group.ablationSeries,
        p: s.group.method.name === 'prunefuse' ? s.group.method.prune : 0,
        budget: percent(b.fraction),
        labelled: b.labelled,
        accuracy: b.accuracyPct.mean,
        selectionMacs: b.macs.selection,
      })),
    );
  const encoding = {
    x: { field: 'p', type: 'quantitative', title: 'pruning ratio p' },
    color: {
      field: 'budget',
      type: 'ordinal',
      title: 'budget',
      sort: { field: 'labelled' },
      scale: { scheme: 'viridis' },
    },
    strokeDash: { field: 'variant', type: 'nominal', title: 'variant' },
    order: { field: 'p', type: 'quantitative' },
  } as const;
  return {
    kind: 'pruning-ablation',
    title: 'Pruning-ratio ablation',
    caption:
      'PruneFuse target accuracy and the selection MACs spent to reach each budget, against the fraction ' +
      'of channels pruned from the selector. Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      hconcat: [
        {
          width: FACET_WIDTH,
          height: HEIGHT,
          mark: { type: 'line', point: true },
          encoding: {
            ...encoding,
            y: {
              field: 'accuracy',
              type: 'quantitative',
              title: 'test accuracy (%)',
              scale: { zero: false },
            },
          },
        },
        {
          width: FACET_WIDTH,
          height: HEIGHT,
          mark: { type: 'line', point: true },
          encoding: {
            ...encoding,
            y: {
              field: 'selectionMacs',
              type: 'quantitative',
              title: 'selection MACs',
              axis: { format: '~s' },
            },
          },
        },
      ],
    },
  };
}

/**
 * The paper's Figure 4 comparison: test accuracy per epoch of fused targets against
 * targets trained from scratch on data the same pruned selector chose. A facet appears
 * only where both kinds were trained for the same pruning ratio and budget.
 */
function convergence(panel: Panel): Chart | null {
  interface Curve {
    facet: string;
    labelled: number;
    init: string;
    series: string;
    byEpoch: Map<number, number[]>;
  }
  const curves = new Map<string, Curve>();
  for (const summary of panel.summaries) {
    const { method } = summary.group;
    if (method.name !== 'prunefuse') continue;
    for (const run of summary.group.runs) {
      for (const target of run.targets) {
        const facet = `b=${target.labelled} · p=${method.prune}`;
        const series = `${target.init} · ${summary.group.key.method}`;
        const id = JSON.stringify([facet, series]);
        const curve = curves.get(id) ?? {
          facet,
          labelled: target.labelled,
          init: target.init,
          series,
          byEpoch: new Map(),
        };
        for (const epoch of target.epochs) {
          if (epoch.testAccuracy === undefined) continue;
          curve.byEpoch.set(epoch.epoch, [
            ...(curve.byEpoch.get(epoch.epoch) ?? []),
            epoch.testAccuracy,
          ]);
        }
        curves.set(id, curve);
      }
    }
  }
  const inits = new Map<string, Set<string>>();
  for (const c of curves.values()) {
    if (c.byEpoch.size) inits.set(c.facet, (inits.get(c.facet) ?? new Set()).add(c.init));
  }
  const compared = new Set(
    [...inits].filter(([, kinds]) => kinds.size === 2).map(([facet]) => facet),
  );
  if (compared.size === 0) return null;
  const values: Row[] = [...curves.values()]
    .filter((c) => compared.has(c.facet))
    .flatMap((c) =>
      [...c.byEpoch].map(([epoch, accuracies]) => ({
        facet: c.facet,
        labelled: c.labelled,
        init: c.init,
        series: c.series,
        epoch,
        accuracy: mean(accuracies) * 100,
      })),
    );
  return {
    kind: 'convergence',
    title: 'Convergence: fused vs trained from scratch',
    caption:
      'Test accuracy per evaluated epoch of the target, fused from the trained pruned network or ' +
      'initialised at random, on the same budget (the paper’s Figure 4 comparison). Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { field: 'facet', type: 'nominal', title: null, sort: { field: 'labelled' } },
      columns: 3,
      spec: {
        width: FACET_WIDTH,
        height: HEIGHT * 0.75,
        mark: { type: 'line' },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
          y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)' },
          color: { field: 'series', type: 'nominal', title: 'target' },
          strokeDash: { field: 'init', type: 'nominal', title: 'init', sort: ['fused', 'scratch'] },
          order: { field: 'epoch', type: 'quantitative' },
        },
      },
    },
  };
}

/** Spearman ρ and top-k overlap between the selector's and the full model's pool scores. */
function rankAgreement(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = panel.summaries.flatMap((s) => rankRows(s));
  if (values.length === 0) return null;
  return {
    kind: 'rank-agreement',
    title: 'Rank agreement with the full model',
    caption:
      'How alike the selector and the dense model rank the unlabelled pool each round: Spearman ' +
      'correlation of their uncertainty scores and the overlap of their top-k picks. Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { column: { field: 'measure', type: 'nominal', title: null } },
      spec: {
        width: FACET_WIDTH,
        height: HEIGHT,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'labelled', type: 'quantitative', title: 'labelled examples' },
          y: { field: 'value', type: 'quantitative', title: null },
          color: methodColor(methods, present(values)),
          order: { field: 'labelled', type: 'quantitative' },
        },
      },
    },
  };
}

function rankRows(summary: GroupSummary): Row[] {
  const byLabelled = new Map<number, { spearman: number[]; overlap: number[] }>();
  for (const run of summary.group.runs) {
    for (const round of run.rounds) {
      if (!round.rankAgreement) continue;
      const entry = byLabelled.get(round.labelled) ?? { spearman: [], overlap: [] };
      entry.spearman.push(round.rankAgreement.spearman);
      entry.overlap.push(round.rankAgreement.topKOverlap);
      byLabelled.set(round.labelled, entry);
    }
  }
  const method = summary.group.key.method;
  return [...byLabelled].flatMap(([labelled, m]) => [
    { method, labelled, measure: 'Spearman ρ', value: mean(m.spearman) },
    { method, labelled, measure: 'top-k overlap', value: mean(m.overlap) },
  ]);
}
