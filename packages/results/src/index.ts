export {
  DATASET_NAMES,
  ACQUISITION_NAMES,
  PRUNING_CRITERIA,
  SCHEDULE_NAMES,
  METHOD_NAMES,
  runRecordSchema,
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
export {
  ResultsStore,
  type IndexEntry,
  type FailureRecord,
  type RecordState,
  type Cleanup,
} from './store.js';
export { writeFileAtomic } from './atomic-write.js';
export { readJsonFile, fieldPath } from './json-file.js';
export {
  type ClaimAttempt,
  type ClaimHolder,
  isStale,
  LEASE_MS,
  type LeaseRenewal,
  RunClaim,
  readHolder,
} from './run-claim.js';
export {
  type RunEvent,
  type JournalEntry,
  type JournalHeader,
  RunJournal,
  readJournal,
} from './journal.js';
export {
  TRAINING_MACS_PER_FORWARD,
  type ForwardCosts,
  type RunPlan,
  inferenceMacs,
  labelledSizes,
  planMacs,
  planRun,
  plannedEpochs,
  selectionMacsUpTo,
  trainingMacs,
} from './cost-model.js';
export {
  PRUNEFUSE_DEFAULTS,
  describeRun,
  methodLabel,
  methodOptions,
  usesAcquisition,
} from './method-label.js';
