import { datasetFacts } from '@prunefuse/data';
import type { DatasetName, RunConfig, RunRecord } from '@prunefuse/results';
import type { DatasetFacts } from './config/expand.js';
import type { RunContext } from './sweep.js';

/**
 * Where the runner meets the packages being written at the same time: executing a run
 * (the methods' active-learning loop) and a dataset's split sizes, input shape and class
 * count without reading its files (data). Each says so until it is wired.
 */
export async function executeRun(config: RunConfig, context: RunContext): Promise<RunRecord> {
  throw new Error(
    `run ${context.id} (${config.method.name}): the methods are not yet wired into the runner ` +
      '(packages/runner/src/execute-run.ts)',
  );
}

export function describeDataset(name: DatasetName): DatasetFacts {
  const { trainSize, testSize, shape, classes } = datasetFacts(name);
  return { trainSize, testSize, input: shape, classes };
}
