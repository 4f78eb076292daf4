export { writeFileAtomic } from './atomic-write.js';
export {
  type ForwardCosts,
  inferenceMacs,
  labelledSizes,
  planMacs,
  plannedExamples,
  planRun,
  type RunPlan,
  selectionMacsUpTo,
  TRAINING_MACS_PER_FORWARD,
  trainingMacs,
} from './cost-model.js';
export {
  type JournalEntry,
  type JournalHeader,
  type RunEvent,
  RunJournal,
  readJournal,
} from './journal.js';
export { fieldPath, readJsonFile } from './json-file.js';
export {
  describeRun,
  methodLabel,
  methodOptions,
  PRUNEFUSE_DEFAULTS,
  usesAcquisition,
} from './method-label.js';
export { type DoneBeforeStart, NOTHING_DONE, phaseAfterRun, planLeft } from './plan-left.js';
export type {
  AcquisitionName,
  BudgetConfig,
  EpochRecord,
  MacsByPhase,
  MethodConfig,
  MethodName,
  PruningCriterion,
  RoundRecord,
  RunConfig,
  RunRecord,
  ScheduleName,
  TargetRecord,
  TrainingConfig,
} from './record.js';
export {
  ACQUISITION_NAMES,
  METHOD_NAMES,
  PRUNING_CRITERIA,
  runRecordSchema,
  SCHEDULE_NAMES,
} from './record.js';
export {
  labelledSetDigest,
  type RunCheckpoint,
  runCheckpointSchema,
  type SavedTarget,
  sameEngine,
} from './run-checkpoint.js';
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
  type PhaseOutline,
  type SelectionPhase,
  SelectionPhaseStore,
  type SelectionRoundSnapshot,
  type SelectorSnapshot,
  type StoredSelectionPhase,
} from './selection-phase.js';
export {
  type CheckpointState,
  type Cleanup,
  type FailureRecord,
  type IndexEntry,
  type RecordState,
  ResultsStore,
} from './store.js';
export {
  type OptimizerState,
  parseTrainingKey,
  type SavedTraining,
  type TrainedNetwork,
  type TrainingKey,
  type TrainingSummary,
  trainingKeyNetwork,
  trainingKeyText,
} from './training-checkpoint.js';
