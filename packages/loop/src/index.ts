export type {
  Method,
  MethodFactory,
  MethodSetup,
  SelectorDefinition,
  TargetContext,
  BuiltTarget,
} from './method.js';
export { type LoopSetup, type LoopOutcome, activeLearningLoop } from './active-learning-loop.js';
export type { TrainingOutcome, TrainOnLabelled } from './train-on-labelled.js';
export { scratchTarget } from './scratch-target.js';
export { FrozenWeights } from './frozen-weights.js';
export {
  learningRateAt,
  crossEntropy,
  distillationLoss,
  type EvaluationResult,
  type Teacher,
  type TrainingSchedule,
  type TrainOptions,
  type TrainResult,
  TrainingDivergedError,
  trainNetwork,
  evaluateNetwork,
  type Prediction,
  type PredictionKind,
  predict,
} from './training/index.js';
