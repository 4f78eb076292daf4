import { labelledSizes, PRUNEFUSE_DEFAULTS, type RunRecord } from '@prunefuse/results';
import { settingsBesideMethod } from './groups.js';
import { budgetMeasurements } from './measurements.js';
import { expectedTargetInit, methodLabel } from './method-label.js';
import type { Panel } from './panels.js';
import { type Stat, summarize } from './stats.js';

/**
 * PruneFuse with distillation at several λ x T settings, all else equal, at one budget:
 * the target's accuracy per setting, beside the same method's target without KD and the
 * teacher θp* itself (the paper publishes neither λ nor T; this is where to choose them).
 */
export interface KdGrid {
  /** The method without its λ and T, e.g. "prunefuse p=0.5". */
  method: string;
  labelled: number;
  fraction: number;
  /** One per λ x T setting run, accuracy in percent over distinct seeds. */
  cells: { lambda: number; temperature: number; accuracy: Stat }[];
  /** The same method's target without KD (fused or not, as the grid's), or null when not run. */
  withoutKd: Stat | null;
  /** θp*, the teacher, on the same labelled set. */
  teacher: Stat | null;
}

/**
 * The KD grids of a panel: its PruneFuse runs grouped by everything but kd, λ and T,
 * including the labelled-set sizes up to the budget (so runs whose other milestones
 * differ, such as a λ x T grid measured at its last budget only, still join the run that
 * measured every budget), one grid per budget with at least two λ x T settings. A seed
 * that several runs of one setting measured (the same computation) counts once.
 */
export function kdGrids(panel: Panel): KdGrid[] {
  // By family and budget: the key holds the labelled-set sizes up to the budget.
  const families = new Map<string, { method: string; labelled: number; points: Point[] }>();
  for (const summary of panel.summaries) {
    for (const run of summary.group.runs) {
      const { method } = run.config;
      if (method.name !== 'prunefuse') continue;
      for (const measured of budgetMeasurements(run)) {
        const key = familyKey(run, measured.labelled);
        const family = families.get(key) ?? {
          method: methodLabel({
            ...run.config,
            method: {
              ...method,
              kd: true,
              kdLambda: PRUNEFUSE_DEFAULTS.kdLambda,
              kdTemperature: PRUNEFUSE_DEFAULTS.kdTemperature,
            },
          }),
          labelled: measured.labelled,
          points: [],
        };
        families.set(key, family);
        const target = run.targets.find(
          (t) => t.labelled === measured.labelled && t.init === expectedTargetInit(method),
        );
        family.points.push({
          setting: method.kd
            ? { lambda: method.kdLambda, temperature: method.kdTemperature }
            : null,
          seed: run.config.seed,
          fraction: measured.fraction,
          accuracy: measured.accuracy * 100,
          teacher: target?.selectorAccuracy === undefined ? null : target.selectorAccuracy * 100,
        });
      }
    }
  }
  const grids: KdGrid[] = [];
  for (const { method, labelled, points } of families.values()) {
    const settings = new Map<string, Point[]>();
    for (const point of points) {
      if (point.setting === null) continue;
      const key = `${point.setting.lambda} ${point.setting.temperature}`;
      settings.set(key, [...(settings.get(key) ?? []), point]);
    }
    if (settings.size < 2) continue;
    grids.push({
      method,
      labelled,
      fraction: points[0]!.fraction,
      cells: [...settings.values()]
        .map((same) => ({ ...same[0]!.setting!, accuracy: overSeeds(same, (p) => p.accuracy)! }))
        .sort((a, b) => a.lambda - b.lambda || a.temperature - b.temperature),
      withoutKd: overSeeds(
        points.filter((p) => p.setting === null),
        (p) => p.accuracy,
      ),
      teacher: overSeeds(
        points.filter((p) => p.setting !== null),
        (p) => p.teacher,
      ),
    });
  }
  return grids.sort((a, b) => a.method.localeCompare(b.method) || a.labelled - b.labelled);
}

interface Point {
  setting: { lambda: number; temperature: number } | null;
  seed: number;
  fraction: number;
  accuracy: number;
  teacher: number | null;
}

/** Mean over distinct seeds (the first point of a seed stands for it); null without values. */
function overSeeds(points: readonly Point[], value: (point: Point) => number | null): Stat | null {
  const bySeed = new Map<number, number>();
  for (const point of points) {
    const v = value(point);
    if (v !== null && !bySeed.has(point.seed)) bySeed.set(point.seed, v);
  }
  return bySeed.size === 0 ? null : summarize([...bySeed.values()]);
}

/** Everything a run's target at `labelled` depends on but KD's settings and the later milestones. */
function familyKey(run: RunRecord, labelled: number): string {
  const {
    kd: _kd,
    kdLambda: _lambda,
    kdTemperature: _temperature,
    ...method
  } = run.config.method as Extract<RunRecord['config']['method'], { name: 'prunefuse' }>;
  return JSON.stringify([
    Object.entries(method).sort(([a], [b]) => a.localeCompare(b)),
    settingsBesideMethod(run, { except: ['budget.milestones'] }),
    labelledSizes(run.config).filter((size) => size <= labelled),
  ]);
}
