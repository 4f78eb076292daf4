import type { tf } from '@prunefuse/engine';
import { networkFromWeights } from './graph-network.js';
import { initialWeights } from './init.js';
import type { Network } from './network.js';
import type { ModelSpec } from './spec.js';

/** A freshly initialised network (see initialWeights for the schemes); same seed, same bits. */
export function buildNetwork(spec: ModelSpec, seed: number): Network {
  const weights: Map<string, tf.Tensor> = initialWeights(spec, seed);
  try {
    return networkFromWeights(spec, weights);
  } finally {
    for (const tensor of weights.values()) tensor.dispose();
  }
}
