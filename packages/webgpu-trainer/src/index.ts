export { compiledTrainerChosen } from './choice.js';
export type { DistillationLoss, LossSpec } from './kernels/loss.js';
export { compiledModelBenchCases } from './model-bench.js';
export { type CompiledProfile, type GpuStepTimes, profileCompiledStep } from './profile.js';
export {
  type CompiledStepAgreement,
  compareCompiledStep,
  compiledSteps,
  type StepCase,
  type StepData,
  type StepOutcome,
  seededBatch,
  tfjsSteps,
  type WeightAgreement,
} from './step-check.js';
export {
  CompiledTrainer,
  compileTrainer,
  type DispatchTime,
  type Predictions,
  type TrainerOptions,
  type TrainingBatch,
  type TrainingMetrics,
  webgpuDevice,
} from './trainer.js';
