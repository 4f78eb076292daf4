import { tf } from '@prunefuse/engine';
import { type Network, networkFromWeights, weightSpecs } from '@prunefuse/models';
import { ChannelIndex, type ChannelMap } from '../pruning/channel-map.js';

export interface FuseOptions {
  /**
   * What θF holds where θp* has no weight: θ's own initial values ('init', the paper)
   * or zeros ('zero', the ablation of its open question 3).
   */
  fill: 'init' | 'zero';
}

/**
 * Fusion θF = Fuse(θ, θp*): a new network with θ's structure in which every weight of
 * the trained pruned network (conv kernels at kept input and output channels, biases,
 * batch-norm parameters and moving statistics, dense rows and columns) sits at its
 * position in θ, and every other position is filled per `options.fill`. With 'zero',
 * the BN moving variance outside the kept channels stays θ's 1 rather than 0: a zero
 * variance is no statistic, and with zero gamma and beta those channels output 0 either
 * way. θ and θp* are left unchanged.
 */
export async function fuseInto(
  dense: Network,
  trainedPruned: Network,
  map: ChannelMap,
  options: FuseOptions,
): Promise<Network> {
  if (options.fill !== 'init' && options.fill !== 'zero') {
    throw new Error(`fuseInto: fill must be 'init' or 'zero', got '${options.fill}'`);
  }
  const index = new ChannelIndex(dense.spec, map);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const weight of weightSpecs(dense.spec)) {
      const prunedVariable = trainedPruned.variables.get(weight.name);
      const positions = index.densePositions(weight);
      if (!prunedVariable || prunedVariable.size !== positions.length) {
        throw new Error(
          `fuseInto: the pruned network's '${weight.name}' ${prunedVariable ? `has ${prunedVariable.size} values` : 'is missing'}, ` +
            `the channel map selects ${positions.length}: was it pruned from ${dense.spec.arch} with this map?`,
        );
      }
      const fused =
        options.fill === 'zero' && weight.kind !== 'movingVariance'
          ? new Float32Array(sizeOf(weight.shape))
          : Float32Array.from((await dense.variables.get(weight.name)!.data()) as Float32Array);
      const pruned = (await prunedVariable.data()) as Float32Array;
      for (let i = 0; i < positions.length; i++) fused[positions[i]!] = pruned[i]!;
      weights.set(weight.name, tf.tensor(fused, weight.shape, 'float32'));
    }
    return networkFromWeights(dense.spec, weights);
  } finally {
    tf.dispose([...weights.values()]);
  }
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
