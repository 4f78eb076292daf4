import { missingDatasetFiles, parseDatasetName } from '@prunefuse/data';
import type { BackendChoice } from '@prunefuse/engine';
import { architecture } from '@prunefuse/models';
import type { RunEnvironment } from '@prunefuse/tracking';
import type { DescribeDataset, ExpandedRun } from './config/expand.js';

/** A sweep that cannot start, with one line per distinct problem. */
export class PreflightError extends Error {
  constructor(
    readonly sweep: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${sweep}: the sweep cannot start (${problems.length} problem${problems.length === 1 ? '' : 's'}; ` +
        `nothing was created):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'PreflightError';
  }
}

export interface PreflightOptions {
  /** Names the sweep in the error (the config file). */
  sweep: string;
  /** The runs about to execute: those the store does not hold yet. */
  runs: readonly ExpandedRun[];
  backend: BackendChoice;
  describeDataset: DescribeDataset;
  /** Selects the backend; throws when it is unavailable. */
  environment: (backend: BackendChoice) => Promise<RunEnvironment>;
}

/**
 * Resolves what every run needs before the first one starts: each architecture (target
 * and proxy) builds for its dataset's input and classes, each dataset's files are there,
 * and the backend is available. Each distinct problem is named once, however many runs
 * share it (60 runs on one missing CIFAR folder are one problem), and the sweep is refused
 * before its store is created. Returns the environment of the selected backend.
 */
export async function preflight(options: PreflightOptions): Promise<RunEnvironment> {
  const problems = new Set<string>();
  for (const { config } of options.runs) {
    const facts = options.describeDataset(config.dataset.name);
    const archs =
      config.method.name === 'svp' ? [config.arch, config.method.proxyArch] : [config.arch];
    for (const arch of archs) {
      try {
        architecture(arch, { input: facts.input, classes: facts.classes });
      } catch (error) {
        problems.add(
          `architecture ${arch} for ${config.dataset.name}: ${(error as Error).message}`,
        );
      }
    }
    const dataset = parseDatasetName(config.dataset.name, `run ${config.experiment}: dataset.name`);
    const missing = missingDatasetFiles(dataset, config.dataset.dataDir);
    if (missing) problems.add(`dataset ${missing}`);
  }
  let environment: RunEnvironment | null = null;
  try {
    environment = await options.environment(options.backend);
  } catch (error) {
    problems.add(`backend ${options.backend}: ${(error as Error).message}`);
  }
  if (problems.size > 0 || environment === null) {
    throw new PreflightError(options.sweep, [...problems]);
  }
  return environment;
}
