export {
  type ChannelMap,
  type ChannelMapGroup,
  keptCount,
  prunedSpec,
} from './pruning/channel-map.js';
export {
  type PruningCriterion,
  type LabelledBatch,
  magnitudeCriterion,
  snipCriterion,
  criterionByName,
} from './pruning/criteria.js';
export { type PrunedNetwork, pruneAtInit } from './pruning/prune-at-init.js';
export { type FuseOptions, fuseInto } from './fusion/fuse-into.js';
export { pruneFuseBenchCases } from './pruning/bench.js';
export {
  type Method,
  type MethodFactory,
  type MethodSetup,
  type SelectorDefinition,
  type TargetContext,
  type BuiltTarget,
} from './loop/method.js';
export {
  type LoopSetup,
  type LoopOutcome,
  activeLearningLoop,
} from './loop/active-learning-loop.js';
export {
  type TrainingOutcome,
  type TrainOnLabelled,
  TRAINING_MACS_PER_FORWARD,
} from './loop/train-on-labelled.js';
export { scratchTarget } from './loop/scratch-target.js';
export { FrozenWeights } from './loop/frozen-weights.js';
export {
  type PruneFuseOptions,
  pruneFuseMethod,
  SNIP_BATCH_LIMIT,
} from './methods/prunefuse-method.js';
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
