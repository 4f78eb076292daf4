import type { AcquisitionName, MethodConfig, RunRecord } from '@prunefuse/results';
import { METHOD_ORDER, methodLabel, usesAcquisition } from './method-label.js';

/**
 * Where a run belongs in every table, chart, baseline and check: the runs of one group
 * differ only in their seed, so their results are averaged over seeds.
 */
export interface GroupKey {
  experiment: string;
  dataset: string;
  arch: string;
  /** The method label, e.g. "prunefuse p=0.5 no-KD". */
  method: string;
  /** null for methods that never consult the acquisition function (random, full). */
  acquisition: AcquisitionName | null;
}

export interface RunGroup {
  key: GroupKey;
  method: MethodConfig;
  /** The label without the pruning ratio: one series of the pruning-ratio ablation. */
  ablationSeries: string;
  runs: RunRecord[];
}

export function groupKeyText(key: GroupKey): string {
  return [key.experiment, key.dataset, key.arch, key.method, key.acquisition ?? '-'].join(' | ');
}

/**
 * Fields that do not change what a run computes, or that vary on purpose between the
 * seeds of one group: they are left out when deciding whether two runs are replicates.
 */
function replicateConfig(run: RunRecord): Record<string, unknown> {
  const { seed: _seed, backend: _backend, rankAgreement: _rank, acquisition, ...rest } = run.config;
  const { dataDir: _dataDir, ...dataset } = rest.dataset;
  return usesAcquisition(rest.method.name)
    ? { ...rest, dataset, acquisition }
    : { ...rest, dataset };
}

/**
 * A run's settings other than its seed and method (and the dotted paths in `except`), as
 * text: two methods are compared (the report's claims) only where these agree.
 */
export function settingsBesideMethod(
  run: RunRecord,
  options: { except?: readonly string[] } = {},
): string {
  const { method: _method, ...settings } = replicateConfig(run);
  const except = new Set(options.except ?? []);
  return JSON.stringify(
    [...flatten(settings)]
      .filter(([path]) => !except.has(path))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * Groups runs by experiment, dataset, architecture, method label and acquisition. When
 * runs sharing those differ in some other setting (a sweep over epochs, say), each
 * distinct configuration becomes its own group and its label names the differing
 * settings, so that no table ever averages unlike runs.
 */
export function groupRuns(records: readonly RunRecord[]): RunGroup[] {
  const byBase = new Map<string, RunRecord[]>();
  for (const run of records) {
    const base = groupKeyText(baseKey(run));
    byBase.set(base, [...(byBase.get(base) ?? []), run]);
  }
  const groups: RunGroup[] = [];
  for (const runs of byBase.values()) {
    const byConfig = new Map<string, { config: Map<string, string>; runs: RunRecord[] }>();
    for (const run of runs) {
      const leaves = flatten(replicateConfig(run));
      const id = JSON.stringify([...leaves].sort(([a], [b]) => a.localeCompare(b)));
      const entry = byConfig.get(id) ?? { config: leaves, runs: [] };
      entry.runs.push(run);
      byConfig.set(id, entry);
    }
    const variants = [...byConfig.values()];
    const differing = differingPaths(variants.map((v) => v.config));
    for (const variant of variants) {
      const first = variant.runs[0]!;
      const suffix = differing.length
        ? ` (${differing.map((p) => `${p}=${variant.config.get(p) ?? 'unset'}`).join(', ')})`
        : '';
      const key = baseKey(first);
      groups.push({
        key: { ...key, method: key.method + suffix },
        method: first.config.method,
        ablationSeries: methodLabel(first.config, { omitPrune: true }) + suffix,
        runs: [...variant.runs].sort(
          (a, b) => a.config.seed - b.config.seed || a.id.localeCompare(b.id),
        ),
      });
    }
  }
  return groups.sort(compareGroups);
}

function baseKey(run: RunRecord): GroupKey {
  const { config } = run;
  return {
    experiment: config.experiment,
    dataset: config.dataset.name,
    arch: config.arch,
    method: methodLabel(config),
    acquisition: usesAcquisition(config.method.name) ? config.acquisition : null,
  };
}

/** Leaf values by dotted path, as JSON text; arrays are leaves (milestone lists compare whole). */
function flatten(value: Record<string, unknown>, prefix = '', into = new Map<string, string>()) {
  for (const [name, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      flatten(child as Record<string, unknown>, path, into);
    } else {
      into.set(path, JSON.stringify(child));
    }
  }
  return into;
}

function differingPaths(configs: readonly Map<string, string>[]): string[] {
  if (configs.length < 2) return [];
  const paths = new Set(configs.flatMap((c) => [...c.keys()]));
  return [...paths].filter((p) => new Set(configs.map((c) => c.get(p))).size > 1).sort();
}

export function compareGroups(a: RunGroup, b: RunGroup): number {
  return (
    a.key.experiment.localeCompare(b.key.experiment) ||
    a.key.dataset.localeCompare(b.key.dataset) ||
    a.key.arch.localeCompare(b.key.arch) ||
    (a.key.acquisition ?? '').localeCompare(b.key.acquisition ?? '') ||
    compareMethods(a, b)
  );
}

/** Paper order of methods, then pruning ratio numerically, then label. */
export function compareMethods(a: RunGroup, b: RunGroup): number {
  return (
    METHOD_ORDER.indexOf(a.method.name) - METHOD_ORDER.indexOf(b.method.name) ||
    prune(a) - prune(b) ||
    a.key.method.localeCompare(b.key.method)
  );
}

function prune(group: RunGroup): number {
  return group.method.name === 'prunefuse' ? group.method.prune : 0;
}
