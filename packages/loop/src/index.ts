export {
  activeLearningLoop,
  type LoopCheckpoint,
  type LoopOutcome,
  type LoopSetup,
} from './active-learning-loop.js';
export { FrozenWeights } from './frozen-weights.js';
export type {
  AsyncMethodFactory,
  BuiltTarget,
  Method,
  MethodFactory,
  MethodSetup,
  SelectorDefinition,
  TargetContext,
} from './method.js';
export { scratchTarget } from './scratch-target.js';
export type {
  TrainingCheckpoints,
  TrainingOutcome,
  TrainingState,
  TrainOnLabelled,
} from './train-on-labelled.js';
export {
  CompiledTrainers,
  crossEntropy,
  distillationLoss,
  type EvaluationResult,
  evaluateNetwork,
  type InferenceOptions,
  learningRateAt,
  type Prediction,
  type PredictionKind,
  predict,
  type Teacher,
  TrainingDivergedError,
  type TrainingProgress,
  type TrainingSchedule,
  type TrainOptions,
  type TrainResult,
  trainNetwork,
} from './training/index.js';
