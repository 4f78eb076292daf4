export {
  type ArchitectureOptions,
  architecture,
  architectureNames,
} from './architectures/registry.js';
export {
  type ModelBenchWorkload,
  modelBenchCases,
  modelBenchWorkloads,
  modelCaseHeader,
} from './bench.js';
export { buildNetwork } from './build.js';
export { countMacs, countParams, type LayerCost, layerCosts } from './count.js';
export {
  type Float64Step,
  type Float64StepRequest,
  float64TrainingStep,
} from './float64-reference.js';
export { networkFromWeights } from './graph-network.js';
export { type ChannelGroup, channelGroups } from './groups.js';
export { initialWeights } from './init.js';
export type {
  ForwardOutput,
  LabelledBatch,
  LayerObserver,
  NamedWeights,
  Network,
} from './network.js';
export {
  PYTORCH_INSTALL_COMMAND,
  type PytorchKernelReference,
  type PytorchKernelRow,
  type PytorchReference,
  type PytorchRow,
  runPytorchKernelReference,
  runPytorchReference,
} from './pytorch-reference.js';
export { SgdMomentum, type SgdOptions } from './sgd-momentum.js';
export { type ActivationShape, activationShapes } from './shapes.js';
export {
  INPUT,
  type InputShape,
  inputsOf,
  type LayerKind,
  type LayerSpec,
  type ModelSpec,
} from './spec.js';
export { profileTrainingStep, type TrainingProfile } from './training-profile.js';
export {
  BENCH_INPUT_SHAPES,
  compareTrainingStep,
  compareWithFloat64,
  type StepAgreement,
  type TrainingStepFixture,
  type TrainingStepOptions,
  trainingStepFixture,
} from './training-step.js';
export { type WeightKind, type WeightSpec, weightSpecs } from './weights.js';
