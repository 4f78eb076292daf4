import { tf } from '@prunefuse/engine';
import type { Network } from '@prunefuse/models';

/** A network's variables as host arrays, by name: what a checkpoint or a selection phase stores. */
export type HostWeights = Map<string, { shape: number[]; values: Float32Array }>;

/** Reads every variable of `network` (batch-norm statistics included) to the host. */
export async function readHostWeights(network: Network): Promise<HostWeights> {
  const weights: HostWeights = new Map();
  for (const [name, variable] of network.variables) {
    // Read asynchronously: the webgpu backend cannot read a GPU tensor synchronously in Node.
    weights.set(name, {
      shape: [...variable.shape],
      values: new Float32Array(await variable.data()),
    });
  }
  return weights;
}

/** `weights` as tensors for the duration of `use`, which must not keep them. */
export function withTensors<T>(
  weights: HostWeights,
  use: (tensors: Map<string, tf.Tensor>) => T,
): T {
  const tensors = new Map(
    [...weights].map(([name, { shape, values }]) => [name, tf.tensor(values, shape)]),
  );
  try {
    return use(tensors);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
