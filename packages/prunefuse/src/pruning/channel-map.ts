import {
  type ChannelGroup,
  channelGroups,
  type ModelSpec,
  type WeightSpec,
} from '@prunefuse/models';

/**
 * Which channels of each channel group the pruned network kept: the correspondence
 * between θ and θp that fusion inverts. Plain JSON, recorded with results.
 */
export interface ChannelMap {
  /** The dense architecture it maps from. */
  arch: string;
  /** Fraction of each prunable group's channels removed. */
  prune: number;
  /** The criterion that ranked the channels. */
  criterion: string;
  /** Every channel group of the dense spec (unprunable ones keep all channels). */
  groups: ChannelMapGroup[];
}

export interface ChannelMapGroup {
  /** The group's id in channelGroups(dense spec). */
  id: string;
  /** Channels in the dense network. */
  channels: number;
  /** Dense channel indices kept, ascending; position i is channel i of the pruned network. */
  kept: number[];
}

/**
 * Channels a group keeps at ratio p: round(c·(1-p)), at least 1, so that p = 0.5 halves
 * every width and no layer vanishes. Depends on the width only, not on weights.
 */
export function keptCount(channels: number, p: number): number {
  return Math.max(1, Math.round(channels * (1 - p)));
}

export function checkPruneRatio(p: number): void {
  if (!(Number.isFinite(p) && p >= 0 && p < 1)) {
    throw new Error(`pruning ratio must lie in [0, 1), got ${p}`);
  }
}

/** The spec with every conv and dense width set to its group's kept count. */
export function narrowedSpec(spec: ModelSpec, width: (group: ChannelGroup) => number): ModelSpec {
  const widthOf = new Map<string, number>();
  for (const group of channelGroups(spec)) {
    const channels = group.prunable ? width(group) : group.channels;
    for (const layer of group.layers) widthOf.set(layer, channels);
  }
  return {
    ...spec,
    input: { ...spec.input },
    layers: spec.layers.map((layer) => {
      if (layer.kind === 'conv') return { ...layer, filters: widthOf.get(layer.name)! };
      if (layer.kind === 'dense') return { ...layer, units: widthOf.get(layer.name)! };
      return layer.kind === 'add' ? { ...layer, inputs: [...layer.inputs] } : { ...layer };
    }),
  };
}

/** The pruned spec of a dense spec at ratio p, from the spec alone (widths need no weights). */
export function prunedSpec(spec: ModelSpec, p: number): ModelSpec {
  checkPruneRatio(p);
  return narrowedSpec(spec, (group) => keptCount(group.channels, p));
}

/**
 * The kept channel indices behind each axis of each weight, from a dense spec and a
 * map: what pruning gathers and fusion scatters. Checks that the map fits the spec.
 */
export class ChannelIndex {
  private readonly keptByLayer = new Map<string, readonly number[]>();

  constructor(dense: ModelSpec, map: ChannelMap) {
    const mapped = new Map(map.groups.map((g) => [g.id, g]));
    const groups = channelGroups(dense);
    const extra = [...mapped.keys()].filter((id) => !groups.some((g) => g.id === id));
    if (extra.length > 0) {
      throw new Error(
        `channel map (from ${map.arch}) has groups ${extra.join(', ')} that ${dense.arch} lacks`,
      );
    }
    for (const group of groups) {
      const entry = mapped.get(group.id);
      if (!entry || entry.channels !== group.channels) {
        throw new Error(
          `channel map (from ${map.arch}) does not fit ${dense.arch}: group '${group.id}' has ` +
            `${group.channels} channels there, ${entry ? entry.channels : 'none'} in the map`,
        );
      }
      checkKept(entry);
      if (!group.prunable && entry.kept.length !== group.channels) {
        throw new Error(`channel map: group '${group.id}' (image or classes) may not be pruned`);
      }
      for (const layer of group.layers) this.keptByLayer.set(layer, entry.kept);
    }
  }

  /**
   * For each element of the pruned counterpart of a dense weight (row-major), its flat
   * index in the dense weight.
   */
  densePositions(weight: WeightSpec): Int32Array {
    let positions = Int32Array.of(0);
    let stride = weight.shape.reduce((a, b) => a * b, 1);
    weight.shape.forEach((size, axis) => {
      stride /= size;
      const layer = weight.channelAxes[axis];
      const kept = layer === null || layer === undefined ? null : this.keptByLayer.get(layer)!;
      const count = kept ? kept.length : size;
      const next = new Int32Array(positions.length * count);
      let at = 0;
      for (const base of positions) {
        for (let i = 0; i < count; i++) next[at++] = base + (kept ? kept[i]! : i) * stride;
      }
      positions = next;
    });
    return positions;
  }
}

function checkKept(group: ChannelMapGroup): void {
  const { id, channels, kept } = group;
  if (kept.length === 0) throw new Error(`channel map: group '${id}' keeps no channel`);
  kept.forEach((channel, i) => {
    if (
      !Number.isInteger(channel) ||
      channel < 0 ||
      channel >= channels ||
      (i > 0 && channel <= kept[i - 1]!)
    ) {
      throw new Error(
        `channel map: group '${id}' must keep ascending indices in 0..${channels - 1}, got [${kept}]`,
      );
    }
  });
}
