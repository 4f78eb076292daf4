export { CompiledTrainers } from './compiled-trainers.js';
export { evaluateNetwork, type InferenceOptions } from './evaluate.js';
export { crossEntropy, distillationLoss } from './loss.js';
export { type Prediction, type PredictionKind, predict } from './predict.js';
export { learningRateAt } from './schedule.js';
export {
  type EvaluationResult,
  optimizerLayout,
  type Teacher,
  TrainingDivergedError,
  type TrainingSchedule,
  type TrainingProgress,
  type TrainOptions,
  type TrainResult,
  trainNetwork,
} from './train.js';
