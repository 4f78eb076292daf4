export {
  DATASET_NAMES,
  ACQUISITION_NAMES,
  PRUNING_CRITERIA,
  SCHEDULE_NAMES,
  METHOD_NAMES,
} from './record.js';
export type {
  DatasetName,
  AcquisitionName,
  PruningCriterion,
  ScheduleName,
  TrainingConfig,
  MethodConfig,
  MethodName,
  BudgetConfig,
  RunConfig,
  EpochRecord,
  MacsByPhase,
  RoundRecord,
  TargetRecord,
  RunRecord,
} from './record.js';
export { ResultsStore, type IndexEntry, type FailureRecord } from './store.js';
export { writeFileAtomic } from './atomic-write.js';
export { type ClaimAttempt, type ClaimHolder, RunClaim } from './run-claim.js';
export {
  type RunEvent,
  type JournalEntry,
  type JournalHeader,
  RunJournal,
  readJournal,
} from './journal.js';
export {
  PRUNEFUSE_DEFAULTS,
  describeRun,
  methodLabel,
  methodOptions,
  usesAcquisition,
} from './method-label.js';
