export { type InputShape, type LayerSpec, type LayerKind, type ModelSpec, INPUT } from './spec.js';
export type { ForwardOutput, NamedWeights, Network } from './network.js';
