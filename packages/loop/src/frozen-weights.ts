import type { tf } from '@prunefuse/engine';
import { type ModelSpec, type Network, networkFromWeights } from '@prunefuse/models';

/**
 * A network's initial state kept aside, so that a selector "retrained from scratch"
 * every round starts from the very same weights.
 */
export class FrozenWeights {
  private constructor(
    readonly spec: ModelSpec,
    private readonly weights: Map<string, tf.Tensor>,
  ) {}

  static of(network: Network): FrozenWeights {
    return new FrozenWeights(network.spec, network.getWeights());
  }

  /** A new network holding copies of the kept weights; the caller owns it. */
  network(): Network {
    return networkFromWeights(this.spec, this.weights);
  }

  dispose(): void {
    for (const tensor of this.weights.values()) tensor.dispose();
  }
}
