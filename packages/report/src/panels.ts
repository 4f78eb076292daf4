import type { AcquisitionName } from '@prunefuse/results';
import type { GroupSummary } from './aggregate.js';
import { compareMethods } from './groups.js';

/**
 * One section of the report: the runs of one experiment on one dataset and architecture
 * that selected with one acquisition function. Random and full-data runs never consult
 * the acquisition function, so they join every panel of their dataset and architecture
 * as the reference rows.
 */
export interface Panel {
  experiment: string;
  dataset: string;
  arch: string;
  acquisition: AcquisitionName | null;
  summaries: GroupSummary[];
}

export function panelTitle(panel: Panel): string {
  const selection = panel.acquisition ?? 'no acquisition function';
  return `${panel.experiment} · ${panel.dataset} · ${panel.arch} · ${selection}`;
}

export function panelsOf(summaries: readonly GroupSummary[]): Panel[] {
  const bySetting = new Map<string, GroupSummary[]>();
  for (const summary of summaries) {
    const { experiment, dataset, arch } = summary.group.key;
    const setting = JSON.stringify([experiment, dataset, arch]);
    bySetting.set(setting, [...(bySetting.get(setting) ?? []), summary]);
  }
  const panels: Panel[] = [];
  for (const members of bySetting.values()) {
    const { experiment, dataset, arch } = members[0]!.group.key;
    const references = members.filter((s) => s.group.key.acquisition === null);
    const acquisitions = [
      ...new Set(
        members.flatMap((s) => (s.group.key.acquisition ? [s.group.key.acquisition] : [])),
      ),
    ];
    if (acquisitions.length === 0) {
      panels.push({ experiment, dataset, arch, acquisition: null, summaries: references });
    }
    for (const acquisition of acquisitions) {
      const selecting = members.filter((s) => s.group.key.acquisition === acquisition);
      panels.push({
        experiment,
        dataset,
        arch,
        acquisition,
        summaries: [...references, ...selecting].sort((a, b) => compareMethods(a.group, b.group)),
      });
    }
  }
  return panels;
}
