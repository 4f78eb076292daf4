export { buildCli } from './cli.js';
export { type LoadedExperiment, parseExperiment, readExperiment } from './config/load.js';
export {
  type DatasetFacts,
  type DescribeDataset,
  type ExpandedRun,
  type Sweep,
  expandSweep,
} from './config/expand.js';
export { ConfigError } from './config/source.js';
export { TRAINING_DEFAULTS } from './config/schema.js';
export { FIELDS_OUTSIDE_RUN_ID, runId } from './run-id.js';
export { parseFilter } from './filter.js';
export {
  type ForwardMacs,
  countForwardMacs,
  estimateMacs,
  forwardCosts,
} from './macs-estimate.js';
export {
  type ExecuteRun,
  type RunContext,
  type SweepOptions,
  type SweepSummary,
  runSweep,
} from './sweep.js';
export { type ProgressStream, type SweepProgress, createProgress } from './progress/reporter.js';
