export {
  type InputShape,
  type LayerSpec,
  type LayerKind,
  type ModelSpec,
  INPUT,
  inputsOf,
} from './spec.js';
export type { ForwardOutput, NamedWeights, Network } from './network.js';
export { type ChannelGroup, channelGroups } from './groups.js';
export { type ActivationShape, activationShapes } from './shapes.js';
export { type WeightKind, type WeightSpec, weightSpecs } from './weights.js';
export { type LayerCost, layerCosts, countParams, countMacs } from './count.js';
export { initialWeights } from './init.js';
export { buildNetwork } from './build.js';
export { networkFromWeights } from './graph-network.js';
export {
  type ArchitectureOptions,
  architecture,
  architectureNames,
} from './architectures/registry.js';
export { modelBenchCases } from './bench.js';
