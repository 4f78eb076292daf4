export { learningRateAt } from './schedule.js';
export { crossEntropy, distillationLoss } from './loss.js';
export {
  type EvaluationResult,
  type Teacher,
  type TrainingSchedule,
  type TrainOptions,
  type TrainResult,
  TrainingDivergedError,
  trainNetwork,
} from './train.js';
export { evaluateNetwork } from './evaluate.js';
export { type Prediction, type PredictionKind, predict } from './predict.js';
