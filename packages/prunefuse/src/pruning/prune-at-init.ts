import { tf } from '@prunefuse/engine';
import {
  channelGroups,
  type ModelSpec,
  type Network,
  networkFromWeights,
  weightSpecs,
} from '@prunefuse/models';
import {
  ChannelIndex,
  type ChannelMap,
  checkPruneRatio,
  keptCount,
  narrowedSpec,
} from './channel-map.js';
import type { PruningCriterion } from './criteria.js';

export interface PrunedNetwork {
  /** θp: θ's structure at reduced widths, holding θ's weights at the kept positions. */
  network: Network;
  spec: ModelSpec;
  map: ChannelMap;
}

/**
 * Structured channel pruning at initialisation: each prunable channel group of θ keeps
 * its keptCount(c, p) highest-scoring channels, the score of a channel being the sum of
 * the criterion's scores over the group's conv and dense layers (torch-pruning's group
 * reduction). The image's channels and the classes are never pruned. θ is not changed.
 */
export async function pruneAtInit(
  dense: Network,
  p: number,
  criterion: PruningCriterion,
): Promise<PrunedNetwork> {
  checkPruneRatio(p);
  const scores = await criterion.channelScores(dense);
  const map: ChannelMap = {
    arch: dense.spec.arch,
    prune: p,
    criterion: criterion.name,
    groups: channelGroups(dense.spec).map((group) => {
      const all = Array.from({ length: group.channels }, (_, i) => i);
      if (!group.prunable) return { id: group.id, channels: group.channels, kept: all };
      const score = new Float64Array(group.channels);
      for (const producer of group.producers) {
        const layerScores = scores.get(producer);
        if (layerScores?.length !== group.channels) {
          throw new Error(
            `criterion '${criterion.name}' gave no scores for the ${group.channels} channels of '${producer}'`,
          );
        }
        layerScores.forEach((value, i) => {
          score[i]! += value;
        });
      }
      // Highest score first; equal scores keep the lower index, so ties never depend on sort stability.
      const ranked = all.sort((a, b) => score[b]! - score[a]! || a - b);
      const kept = ranked.slice(0, keptCount(group.channels, p)).sort((a, b) => a - b);
      return { id: group.id, channels: group.channels, kept };
    }),
  };
  const keptById = new Map(map.groups.map((g) => [g.id, g.kept.length]));
  const spec = narrowedSpec(dense.spec, (group) => keptById.get(group.id)!);
  return { network: await selectWeights(dense, spec, map), spec, map };
}

/** θp's weights: θ's values at the kept channel positions of every weight. */
async function selectWeights(dense: Network, spec: ModelSpec, map: ChannelMap): Promise<Network> {
  const index = new ChannelIndex(dense.spec, map);
  const prunedShapes = new Map(weightSpecs(spec).map((w) => [w.name, w.shape]));
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const weight of weightSpecs(dense.spec)) {
      const values = (await dense.variables.get(weight.name)!.data()) as Float32Array;
      const positions = index.densePositions(weight);
      const selected = new Float32Array(positions.length);
      for (let i = 0; i < positions.length; i++) selected[i] = values[positions[i]!]!;
      weights.set(weight.name, tf.tensor(selected, prunedShapes.get(weight.name)!, 'float32'));
    }
    return networkFromWeights(spec, weights);
  } finally {
    tf.dispose([...weights.values()]);
  }
}
