import type { RunRecord } from '@prunefuse/results';
import type { RunGroup } from './groups.js';

/** Where and how one run was produced: enough to reproduce it or to distrust it. */
export interface ProvenanceRow {
  id: string;
  method: string;
  experiment: string;
  dataset: string;
  arch: string;
  acquisition: string;
  seed: number;
  backend: string;
  device: string;
  versions: string;
  gitCommit: string;
  startedAt: string;
  wallSeconds: number;
  /** The run's full config, pretty-printed. */
  config: string;
}

export function provenanceRows(groups: readonly RunGroup[]): ProvenanceRow[] {
  return groups.flatMap((group) => group.runs.map((run) => provenanceRow(group, run)));
}

function provenanceRow(group: RunGroup, run: RunRecord): ProvenanceRow {
  const { environment: env, config } = run;
  return {
    id: run.id,
    method: group.key.method,
    experiment: config.experiment,
    dataset: config.dataset.name,
    arch: config.arch,
    acquisition: config.acquisition,
    seed: config.seed,
    backend: env.backend,
    device: env.device,
    versions: `tfjs ${env.versions.tfjs}, node ${env.versions.node}, ${env.versions.os}`,
    gitCommit: env.gitCommit ?? 'unknown',
    startedAt: run.startedAt,
    wallSeconds: run.wallSeconds,
    config: JSON.stringify(config, null, 2),
  };
}

/**
 * The paper does not publish its KD weight λ and temperature T; the report states the
 * values the measured PruneFuse runs used so that nobody mistakes them for the paper's.
 */
export function kdSettings(records: readonly RunRecord[]): string[] {
  const settings = new Set<string>();
  for (const { config } of records) {
    if (config.method.name === 'prunefuse' && config.method.kd) {
      settings.add(
        `λ = ${config.method.kdLambda} (weight on cross-entropy; 1 - λ on KD), T = ${config.method.kdTemperature}`,
      );
    }
  }
  return [...settings].sort();
}
