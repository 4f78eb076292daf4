import type { TopLevelSpec } from 'vega-lite';
import type { GroupSummary } from './aggregate.js';
import { type KdGrid, kdGrids } from './kd-grid.js';
import { expectedTargetInit } from './method-label.js';
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

export const CHART_KINDS = [
  'accuracy-vs-budget',
  'accuracy-vs-macs',
  'round-curves',
  'learning-curves',
  'pruning-ablation',
  'convergence',
  'kd-grid',
  'rank-agreement',
] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

/** A figure a panel leaves out, with the one line that says why, so no section goes missing silently. */
export interface MissingChart {
  kind: ChartKind;
  title: string;
  reason: string;
}

export interface PanelFigures {
  charts: Chart[];
  missing: MissingChart[];
}

/**
 * Plot area of a one-view chart, in px: the page is 1,280 px wide less its margins, and
 * the y axis and its title take the rest. Legends sit below the plot so that the plot
 * keeps the whole width; views side by side share it.
 */
const WIDTH = 1080;
const HEIGHT = 320;
/** Room for a view's y axis labels and title beside the next view. */
const VIEW_GAP = 80;
/** Between facets that share one y axis: Vega-Lite's facet spacing. */
const FACET_SPACING = 20;

function viewWidth(columns: number, gap = VIEW_GAP): number {
  return Math.floor((WIDTH - (columns - 1) * gap) / columns);
}

/** Beyond this many values, ticks at every data point would overlap; the axis picks its own. */
const MAX_DATA_TICKS = 16;

/** Axis ticks exactly at the values the data has (rounds, budgets, ratios), where they fit. */
function dataTicks(values: readonly number[]): { values?: number[] } {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  return distinct.length <= MAX_DATA_TICKS ? { values: distinct } : {};
}

type Row = Record<string, string | number | null>;

const TITLES: Record<ChartKind, string> = {
  'accuracy-vs-budget': 'Accuracy vs labelling budget',
  'accuracy-vs-macs': 'Accuracy vs compute spent',
  'round-curves': 'Selector and target accuracy per round',
  'learning-curves': 'Learning curves per epoch',
  'pruning-ablation': 'Pruning-ratio ablation',
  convergence: 'Convergence: fused vs trained from scratch',
  'kd-grid': 'Distillation: λ x T grid',
  'rank-agreement': 'Rank agreement with the full model',
};

/** What a panel needs for each figure, said where the figure would be. */
const NOT_RUN: Record<ChartKind, string> = {
  'accuracy-vs-budget': 'no method here built a target below the full training set',
  'accuracy-vs-macs': 'no method here built a target',
  'round-curves': 'no method here trains a selector (random and full data select without one)',
  'learning-curves': 'no run here recorded per-epoch training',
  'pruning-ablation':
    'not run: PruneFuse ran at fewer than two pruning ratios here (a sweep such as prune: [0.5, 0.7, 0.8] draws it)',
  convergence:
    'not run: no fused and from-scratch PruneFuse targets at the same budget and ratio here (fusion: [true, false] draws it)',
  'kd-grid':
    'not run: PruneFuse with KD ran at fewer than two λ x T settings on one budget here (kdLambda: [0.3, 0.7] or kdTemperature: [1, 4] draws it)',
  'rank-agreement':
    'not recorded: these runs did not measure rank agreement (rankAgreement: true records it)',
};

/**
 * The figures of one panel, and a line for each figure whose data is not there: a budget
 * reached (below the full training set, for the budget axis), a pruning-ratio sweep,
 * fused and scratch targets side by side, recorded rank agreement.
 */
export function panelFigures(panel: Panel): PanelFigures {
  const methods = panel.summaries.map((s) => s.group.key.method);
  const built: Record<ChartKind, Chart | null> = {
    'accuracy-vs-budget': accuracyVsBudget(panel, methods),
    'accuracy-vs-macs': accuracyVsMacs(panel, methods),
    'round-curves': roundCurves(panel, methods),
    'learning-curves': learningCurves(panel, methods),
    'pruning-ablation': pruningAblation(panel),
    convergence: convergence(panel),
    'kd-grid': kdGridChart(panel),
    'rank-agreement': rankAgreement(panel, methods),
  };
  const charts: Chart[] = [];
  const missing: MissingChart[] = [];
  for (const kind of CHART_KINDS) {
    const chart = built[kind];
    if (chart) charts.push(chart);
    else missing.push({ kind, title: TITLES[kind], reason: NOT_RUN[kind] });
  }
  return { charts, missing };
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
    legend: { values: methods.filter((m) => present.has(m)), symbolType: 'stroke' },
  } as const;
}

/** Solid and dashed lines for the two kinds of model a figure sets side by side, in the legend as lines. */
function lineStyle(field: string, title: string, domain: readonly string[]) {
  return {
    field,
    type: 'nominal',
    title,
    scale: {
      domain: [...domain],
      range: [
        [1, 0],
        [6, 4],
      ],
    },
    legend: { symbolType: 'stroke', symbolStrokeColor: '#333' },
  } as const;
}

function present(values: readonly Row[], field = 'method'): Set<unknown> {
  return new Set(values.map((v) => v[field]));
}

/**
 * Text at 13-14 px (Vega's 10-11 px defaults read as footnotes on a 1,280 px page), and
 * legends below the plot with whole labels (Vega cuts them at 160 px by default; 0: never).
 */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  axis: { labelFontSize: 13, titleFontSize: 14, titleFontWeight: 'normal' },
  header: { labelFontSize: 14, titleFontSize: 14 },
  legend: {
    orient: 'bottom',
    direction: 'vertical',
    labelFontSize: 13,
    titleFontSize: 14,
    labelLimit: 0,
    symbolSize: 300,
    symbolStrokeWidth: 2.5,
  },
  line: { strokeWidth: 2 },
  point: { size: 50 },
} as const;

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

const ACCURACY_AXIS = {
  field: 'accuracy',
  type: 'quantitative',
  title: 'test accuracy (%)',
  scale: { zero: false },
} as const;

function accuracyVsBudget(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = panel.summaries
    .filter((s) => s.group.method.name !== 'full')
    .flatMap((s) =>
      s.budgets.map((b) => ({
        method: s.group.key.method,
        curve: BUDGET_CURVES[0],
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
      s.budgets.map((b) => ({
        method: s.group.key.method,
        curve: BUDGET_CURVES[1],
        accuracy: b.accuracyPct.mean,
      })),
    );
  if (values.length === 0) return null;
  const color = methodColor(methods, present([...values, ...references]));
  const x = {
    field: 'budget',
    type: 'quantitative',
    title: 'labelling budget (% of training set)',
    axis: dataTicks(values.map((v) => v.budget as number)),
  } as const;
  // The line-style legend tells the swept budgets from the full-data level, when there is one.
  const style = references.length ? { strokeDash: lineStyle('curve', 'line', BUDGET_CURVES) } : {};
  return {
    kind: 'accuracy-vs-budget',
    title: TITLES['accuracy-vs-budget'],
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
          encoding: { x, y: ACCURACY_AXIS, color, ...style },
        },
        {
          data: { values },
          mark: { type: 'rule' },
          encoding: {
            x,
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
            color,
          },
        },
        ...(references.length
          ? [
              {
                data: { values: references },
                mark: { type: 'rule' as const },
                encoding: { y: ACCURACY_AXIS, color, ...style },
              },
            ]
          : []),
      ],
    },
  };
}

const BUDGET_CURVES = ['at each budget', 'full training set'] as const;

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
    title: TITLES['accuracy-vs-macs'],
    caption:
      'Each point is one budget. Selection: selector training in every round up to the budget plus pool ' +
      'scoring in the rounds that chose its examples. Target training: training (or fine-tuning) the final ' +
      'target at that budget, KD teacher forwards included. Total: their sum.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { column: { field: 'phase', type: 'nominal', sort: [...MAC_PHASES], title: null } },
      spec: {
        width: viewWidth(MAC_PHASES.length, FACET_SPACING),
        height: HEIGHT,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'macs', type: 'quantitative', title: 'MACs', axis: { format: '~s' } },
          y: ACCURACY_AXIS,
          order: { field: 'budget', type: 'quantitative' },
          color: methodColor(methods, present(values)),
        },
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

const MODELS = ['selector', 'target'] as const;

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
      values.push({ method, model: 'selector', labelled, accuracy: mean(accuracies) * 100 });
    }
    if (byLabelled.size === 0) continue;
    for (const b of summary.budgets) {
      values.push({ method, model: 'target', labelled: b.labelled, accuracy: b.accuracyPct.mean });
    }
  }
  if (values.length === 0) return null;
  return {
    kind: 'round-curves',
    title: TITLES['round-curves'],
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
        x: {
          field: 'labelled',
          type: 'quantitative',
          title: 'labelled examples',
          axis: dataTicks(values.map((v) => v.labelled as number)),
        },
        y: ACCURACY_AXIS,
        color: methodColor(methods, present(values)),
        strokeDash: lineStyle('model', 'model', MODELS),
        order: { field: 'labelled', type: 'quantitative' },
      },
    },
  };
}

const CURVE_MEASURES = ['test accuracy (%)', 'training loss'] as const;

/**
 * Per-epoch training of the selector and the target at each budget, means over seeds:
 * the selector is the last one trained on at most that many examples (the one that chose
 * the budget's last examples, or θp* trained on the budget itself), the target is the
 * method's own.
 */
function learningCurves(panel: Panel, methods: readonly string[]): Chart | null {
  const sums = new Map<string, { row: Row; values: number[] }>();
  const add = (row: Row, value: number | undefined) => {
    if (value === undefined) return;
    const id = JSON.stringify(row);
    const entry = sums.get(id) ?? { row, values: [] };
    entry.values.push(value);
    sums.set(id, entry);
  };
  for (const summary of panel.summaries) {
    const method = summary.group.key.method;
    const init = expectedTargetInit(summary.group.method);
    for (const run of summary.group.runs) {
      for (const target of run.targets.filter((t) => t.init === init)) {
        const budget = `b = ${percent(target.fraction)} (${target.labelled})`;
        const selector = run.rounds
          .filter((r) => r.labelled <= target.labelled && r.epochs.length > 0)
          .at(-1);
        const curves = [
          { model: 'target', epochs: target.epochs },
          { model: 'selector', epochs: selector?.epochs ?? [] },
        ];
        for (const { model, epochs } of curves) {
          for (const e of epochs) {
            const at = { method, model, budget, labelled: target.labelled, epoch: e.epoch };
            add({ ...at, measure: CURVE_MEASURES[0] }, maybePercent(e.testAccuracy));
            add({ ...at, measure: CURVE_MEASURES[1] }, e.trainLoss);
          }
        }
      }
    }
  }
  if (sums.size === 0) return null;
  const values: Row[] = [...sums.values()].map(({ row, values }) => ({
    ...row,
    value: mean(values),
  }));
  const budgets = new Set(values.map((v) => v.budget)).size;
  return {
    kind: 'learning-curves',
    title: TITLES['learning-curves'],
    caption:
      'Test accuracy (on the epochs where it was evaluated) and training loss per epoch (cross-entropy, with ' +
      'the KD term for distilled targets), for each budget: ' +
      'solid, the selector trained last on at most that budget (the one that chose its last examples, or ' +
      'θp* on the budget itself); dashed, the method’s target. Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: {
        row: { field: 'measure', type: 'nominal', title: null, sort: [...CURVE_MEASURES] },
        column: { field: 'budget', type: 'nominal', title: null, sort: { field: 'labelled' } },
      },
      spec: {
        width: viewWidth(budgets),
        height: HEIGHT * 0.7,
        mark: { type: 'line', point: { size: 20 } },
        encoding: {
          x: {
            field: 'epoch',
            type: 'quantitative',
            title: 'epoch',
            axis: { tickMinStep: 1, format: 'd' },
          },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: methodColor(methods, present(values)),
          strokeDash: lineStyle('model', 'model', MODELS),
          order: { field: 'epoch', type: 'quantitative' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

function maybePercent(fraction: number | undefined): number | undefined {
  return fraction === undefined ? undefined : fraction * 100;
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
  const variants = [...new Set(values.map((v) => v.variant as string))];
  const encoding = {
    x: {
      field: 'p',
      type: 'quantitative',
      title: 'pruning ratio p',
      axis: dataTicks(values.map((v) => v.p as number)),
    },
    color: {
      field: 'budget',
      type: 'ordinal',
      title: 'budget',
      sort: { field: 'labelled' },
      scale: { scheme: 'viridis' },
      legend: { symbolType: 'stroke' },
    },
    strokeDash: {
      field: 'variant',
      type: 'nominal',
      title: 'variant',
      sort: variants,
      legend: { symbolType: 'stroke', symbolStrokeColor: '#333' },
    },
    order: { field: 'p', type: 'quantitative' },
  } as const;
  return {
    kind: 'pruning-ablation',
    title: TITLES['pruning-ablation'],
    caption:
      'PruneFuse target accuracy and the selection MACs spent to reach each budget (colour), against the ' +
      'fraction of channels pruned from the selector; one line style per PruneFuse variant. Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      hconcat: [
        {
          width: viewWidth(2),
          height: HEIGHT,
          mark: { type: 'line', point: true },
          encoding: { ...encoding, y: ACCURACY_AXIS },
        },
        {
          width: viewWidth(2),
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

const INITS = ['fused', 'scratch'] as const;
const CONVERGENCE_COLUMNS = 3;

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
    title: TITLES.convergence,
    caption:
      'Test accuracy per evaluated epoch of the target, fused from the trained pruned network (solid) or ' +
      'initialised at random (dashed), on the same budget (the paper’s Figure 4 comparison). Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { field: 'facet', type: 'nominal', title: null, sort: { field: 'labelled' } },
      columns: Math.min(CONVERGENCE_COLUMNS, compared.size),
      spec: {
        width: viewWidth(Math.min(CONVERGENCE_COLUMNS, compared.size)),
        height: HEIGHT * 0.75,
        mark: { type: 'line', point: { size: 20 } },
        encoding: {
          x: {
            field: 'epoch',
            type: 'quantitative',
            title: 'epoch',
            axis: dataTicks(values.map((v) => v.epoch as number)),
          },
          y: { ...ACCURACY_AXIS, scale: { zero: false } },
          color: {
            field: 'series',
            type: 'nominal',
            title: 'target',
            legend: { symbolType: 'stroke' },
          },
          strokeDash: lineStyle('init', 'init', INITS),
          order: { field: 'epoch', type: 'quantitative' },
        },
      },
    },
  };
}

/** Height of one λ row of a KD grid, in px: room for a cell's two lines of text. */
const KD_ROW_HEIGHT = 44;

/**
 * Target accuracy per λ x T setting, one heat map per grid (method and budget), coloured
 * by the difference to the same method's target without KD where every grid has one: is
 * distillation worth it, and where?
 */
function kdGridChart(panel: Panel): Chart | null {
  const grids = kdGrids(panel);
  if (grids.length === 0) return null;
  const name = (grid: KdGrid) =>
    `${grid.method} · b = ${percent(grid.fraction)} (${grid.labelled})`;
  const relative = grids.every((grid) => grid.withoutKd !== null);
  const values: Row[] = grids.flatMap((grid) =>
    grid.cells.map(({ lambda, temperature, accuracy }) => ({
      grid: name(grid),
      lambda,
      temperature,
      accuracy: accuracy.mean,
      difference: relative ? accuracy.mean - grid.withoutKd!.mean : null,
      text: describeStat(accuracy),
    })),
  );
  // A symmetric domain, so that 0 (no difference) is the scale's white middle.
  const extreme = relative
    ? Math.max(0.1, ...values.map((v) => Math.abs(v.difference as number)))
    : 0;
  const lambdas = new Set(values.map((v) => v.lambda)).size;
  const temperatures = new Set(values.map((v) => v.temperature)).size;
  const axes = {
    x: { field: 'temperature', type: 'ordinal', title: 'temperature T', axis: { labelAngle: 0 } },
    y: { field: 'lambda', type: 'ordinal', title: 'λ (weight of the label loss)' },
  } as const;
  const references = grids
    .map(
      (grid) =>
        `${name(grid)}: without KD ${describeStat(grid.withoutKd)}, teacher θp* ${describeStat(grid.teacher)}`,
    )
    .join('; ');
  return {
    kind: 'kd-grid',
    title: TITLES['kd-grid'],
    caption:
      "Test accuracy (%) of PruneFuse's target distilled from θp* with loss λ·CE + (1 − λ)·T²·KL at " +
      'temperature T, mean ± std over seeds; ' +
      (relative
        ? "colour: points above (blue) or below (red) the same method's target without KD. "
        : 'colour: accuracy. ') +
      `References, same budget and seeds' means: ${references}.`,
    spec: {
      config: CONFIG,
      data: { values },
      facet: { field: 'grid', type: 'nominal', title: null },
      columns: Math.min(2, grids.length),
      spec: {
        width: Math.min(viewWidth(2), temperatures * 150),
        height: lambdas * KD_ROW_HEIGHT,
        layer: [
          {
            mark: { type: 'rect' },
            encoding: {
              ...axes,
              color: relative
                ? {
                    field: 'difference',
                    type: 'quantitative',
                    title: 'vs no KD (points)',
                    // Binned, so that the legend is symbols: a gradient legend would need
                    // url(#…) fills, which the self-contained page does without.
                    scale: {
                      type: 'quantize',
                      scheme: { name: 'redblue', count: 7 },
                      domain: [-extreme, extreme],
                    },
                    legend: { orient: 'right', direction: 'vertical', titleLimit: 0 },
                  }
                : {
                    field: 'accuracy',
                    type: 'quantitative',
                    title: 'accuracy (%)',
                    scale: { type: 'quantize', scheme: { name: 'blues', count: 5 }, zero: false },
                    legend: { orient: 'right', direction: 'vertical', titleLimit: 0 },
                  },
            },
          },
          {
            mark: { type: 'text', fontSize: 13 },
            encoding: {
              ...axes,
              text: { field: 'text', type: 'nominal' },
              // Light text on the darkest cells of the diverging scale.
              color: relative
                ? {
                    condition: { test: `abs(datum.difference) > ${0.6 * extreme}`, value: 'white' },
                    value: 'black',
                  }
                : { value: 'black' },
            },
          },
        ],
      },
    },
  };
}

function describeStat(stat: { mean: number; std: number | null; n: number } | null): string {
  if (stat === null) return 'not run';
  return `${stat.mean.toFixed(2)}${stat.std === null ? '' : ` ± ${stat.std.toFixed(2)}`} (n=${stat.n})`;
}

const RANK_MEASURES = ['Spearman ρ', 'top-k overlap'] as const;

/** Spearman ρ and top-k overlap between the selector's and the full model's pool scores. */
function rankAgreement(panel: Panel, methods: readonly string[]): Chart | null {
  const values: Row[] = panel.summaries.flatMap((s) => rankRows(s));
  if (values.length === 0) return null;
  return {
    kind: 'rank-agreement',
    title: TITLES['rank-agreement'],
    caption:
      'How alike the selector and the dense model rank the unlabelled pool each round: Spearman ' +
      'correlation of their uncertainty scores and the overlap of their top-k picks. Means over seeds.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: {
        column: { field: 'measure', type: 'nominal', title: null, sort: [...RANK_MEASURES] },
      },
      spec: {
        width: viewWidth(RANK_MEASURES.length, FACET_SPACING),
        height: HEIGHT,
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'labelled',
            type: 'quantitative',
            title: 'labelled examples',
            axis: dataTicks(values.map((v) => v.labelled as number)),
          },
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
    { method, labelled, measure: RANK_MEASURES[0], value: mean(m.spearman) },
    { method, labelled, measure: RANK_MEASURES[1], value: mean(m.overlap) },
  ]);
}
