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
export { ResultsStore, writeFileAtomic } from './store.js';
