export type { DistillationLoss, LossSpec } from './kernels/loss.js';
export {
  CompiledTrainer,
  compileTrainer,
  type Predictions,
  type TrainerOptions,
  type TrainingBatch,
  type TrainingMetrics,
  webgpuDevice,
} from './trainer.js';
