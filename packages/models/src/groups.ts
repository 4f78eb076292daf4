import { activationShapes } from './shapes.js';
import { INPUT, inputsOf, type ModelSpec } from './spec.js';

/**
 * A set of channels that must be pruned together: every layer output in it indexes the
 * same channels, so keeping channel i anywhere means keeping it everywhere.
 */
export interface ChannelGroup {
  /** The first layer (in spec order) whose output is in the group; 'input' for the image. */
  id: string;
  channels: number;
  /** False for the image's channels and the logits' classes, which pruning must keep. */
  prunable: boolean;
  /** Conv and dense layers whose output channels are the group's channels. */
  producers: string[];
  /** Every layer ('input' included) whose output lies in the group, in spec order. */
  layers: string[];
}

/**
 * The channel groups of a spec, derived from its connections alone: every conv or dense
 * output opens a channel space, batch norm, ReLU and pooling pass their input's space
 * through, and an addition merges its inputs' spaces into one (union-find).
 */
export function channelGroups(spec: ModelSpec): ChannelGroup[] {
  const shapes = activationShapes(spec);
  const order = new Map([INPUT, ...spec.layers.map((l) => l.name)].map((name, i) => [name, i]));
  const kinds = new Map(spec.layers.map((l) => [l.name, l.kind]));
  const parent = new Map<string, string>([[INPUT, INPUT]]);
  const find = (name: string): string => {
    let root = name;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(name, root);
    return root;
  };
  // The earlier root wins, so a group is named by where its channels first appear.
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra === rb) return;
    if (order.get(ra)! < order.get(rb)!) parent.set(rb, ra);
    else parent.set(ra, rb);
  };
  for (const layer of spec.layers) {
    parent.set(layer.name, layer.name);
    if (layer.kind !== 'conv' && layer.kind !== 'dense') {
      for (const input of inputsOf(layer)) union(layer.name, input);
    }
  }
  const groups = new Map<string, ChannelGroup>();
  for (const name of order.keys()) {
    const id = find(name);
    let group = groups.get(id);
    if (!group) {
      group = {
        id,
        channels: shapes.get(name)!.at(-1)!,
        prunable: true,
        producers: [],
        layers: [],
      };
      groups.set(id, group);
    }
    group.layers.push(name);
    if (name === INPUT || name === spec.logits) group.prunable = false;
    if (kinds.get(name) === 'conv' || kinds.get(name) === 'dense') group.producers.push(name);
  }
  return [...groups.values()];
}
