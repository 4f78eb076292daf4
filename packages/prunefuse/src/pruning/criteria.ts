import { tf } from '@prunefuse/engine';
import { type LabelledBatch, type Network, weightSpecs } from '@prunefuse/models';
import type { PruningCriterion as CriterionName } from '@prunefuse/results';

/**
 * Ranks channels for pruning: a score for every output channel of every conv and dense
 * layer (by layer name). Pruning sums the scores of a group's layers and keeps the
 * highest. Scores are summed in float64 in JavaScript, so the same weights give the same
 * ranking on every backend.
 */
export interface PruningCriterion {
  readonly name: string;
  /** Reads the weights back asynchronously (a synchronous read fails on webgpu in Node). */
  channelScores(network: Network): Promise<Map<string, Float64Array>>;
}

/** L2 norm of each output channel's filter (kernel[..., c]), the paper's criterion. */
export const magnitudeCriterion: PruningCriterion = {
  name: 'magnitude',
  async channelScores(network) {
    const scores = new Map<string, Float64Array>();
    for (const kernel of kernelsOf(network)) {
      const values = await network.variables.get(kernel.name)!.data();
      const sums = sumPerOutputChannel(
        kernel.shape.at(-1)!,
        values.length,
        (i) => values[i]! * values[i]!,
      );
      scores.set(kernel.layer, sums.map(Math.sqrt));
    }
    return scores;
  },
};

/**
 * SNIP (Lee et al. 2019): the connection sensitivity |w · ∂L/∂w| of the cross-entropy on
 * a labelled batch, summed over each output channel's filter. Batch norm uses the
 * batch's statistics, as SNIP does in training mode; the network's moving statistics are
 * restored afterwards, so scoring leaves θ unchanged.
 */
export function snipCriterion(batch: LabelledBatch): PruningCriterion {
  return {
    name: 'snip',
    async channelScores(network) {
      const [n] = batch.x.shape;
      if (batch.y.dtype !== 'int32' || batch.y.shape[0] !== n) {
        throw new Error(
          `snip: labels must be int32 [${n}] to match the batch, got ${batch.y.dtype} [${batch.y.shape}]`,
        );
      }
      const kernels = kernelsOf(network);
      const variables = kernels.map((k) => network.variables.get(k.name)!);
      const moving = [...network.variables].filter(([name]) =>
        /\/moving(Mean|Variance)$/.test(name),
      );
      const saved = moving.map(([, variable]) => tf.clone(variable));
      let gradients: ReturnType<typeof tf.variableGrads>;
      try {
        gradients = tf.variableGrads(() => {
          const { logits } = network.apply(batch.x, { training: true });
          return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, network.spec.classes), logits);
        }, variables);
      } finally {
        moving.forEach(([, variable], i) => {
          variable.assign(saved[i]!);
        });
        tf.dispose(saved);
      }
      const { value, grads } = gradients;
      const scores = new Map<string, Float64Array>();
      try {
        for (const [k, kernel] of kernels.entries()) {
          const [w, g] = await Promise.all([
            variables[k]!.data(),
            grads[variables[k]!.name]!.data(),
          ]);
          scores.set(
            kernel.layer,
            sumPerOutputChannel(kernel.shape.at(-1)!, w.length, (i) => Math.abs(w[i]! * g[i]!)),
          );
        }
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
      return scores;
    },
  };
}

/** Criteria by the names run configs use; SNIP needs the labelled batch it scores on. */
export function criterionByName(name: CriterionName, batch?: LabelledBatch): PruningCriterion {
  if (name === 'magnitude') return magnitudeCriterion;
  if (!batch) throw new Error('the snip criterion needs a labelled batch to score connections on');
  return snipCriterion(batch);
}

function kernelsOf(network: Network) {
  return weightSpecs(network.spec).filter((w) => w.kind === 'kernel');
}

/** Kernels are [..., out] row-major, so element i belongs to output channel i mod out. */
function sumPerOutputChannel(out: number, size: number, term: (i: number) => number): Float64Array {
  const sums = new Float64Array(out);
  for (let i = 0; i < size; i++) sums[i % out]! += term(i);
  return sums;
}
