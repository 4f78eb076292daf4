import { selectBackend, tf } from '@prunefuse/engine';
import {
  architecture,
  architectureNames,
  buildNetwork,
  channelGroups,
  layerCosts,
  type ModelSpec,
  type Network,
} from '@prunefuse/models';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  keptCount,
  magnitudeCriterion,
  type PruningCriterion,
  pruneAtInit,
  prunedSpec,
  snipCriterion,
} from '../src/index.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const CIFAR = { input: { height: 32, width: 32, channels: 3 }, classes: 10 };
const DIGITS = architecture('resnet8-digits', {
  input: { height: 8, width: 8, channels: 1 },
  classes: 10,
});

const convMacs = (spec: ModelSpec) =>
  layerCosts(spec)
    .filter((l) => l.kind === 'conv')
    .reduce((sum, l) => sum + l.macs, 0);

function bits(network: Network): Map<string, number[]> {
  return new Map([...network.variables].map(([name, v]) => [name, Array.from(v.dataSync())]));
}

describe('kept channel counts', () => {
  it('keep round(c·(1-p)) channels, at least one', () => {
    expect(keptCount(16, 0.5)).toBe(8);
    expect(keptCount(16, 0.3)).toBe(11);
    expect(keptCount(64, 0.8)).toBe(13);
    expect(keptCount(8, 0.99)).toBe(1);
    expect(keptCount(16, 0)).toBe(16);
  });

  it('reject ratios outside [0, 1)', () => {
    for (const p of [1, -0.1, Number.NaN]) {
      expect(() => prunedSpec(DIGITS, p)).toThrow(/pruning ratio must lie in \[0, 1\)/);
    }
  });

  it.each(architectureNames())('%s at p = 0.5 keeps about a quarter of the conv MACs', (name) => {
    const spec = architecture(name, CIFAR);
    const ratio = convMacs(prunedSpec(spec, 0.5)) / convMacs(spec);
    // Exactly 1/4 except the stem conv, whose 3 input channels are never pruned (1/2).
    expect(ratio).toBeGreaterThanOrEqual(0.25);
    expect(ratio).toBeLessThan(0.27);
  });

  it('never prunes the image channels or the classes', () => {
    const pruned = prunedSpec(architecture('resnet20', CIFAR), 0.9);
    const stem = pruned.layers.find((l) => l.name === 'stem.conv1');
    const fc = pruned.layers.find((l) => l.name === 'fc');
    expect(layerCosts(pruned).find((l) => l.name === 'stem.conv1')!.params).toBe(3 * 3 * 3 * 2);
    expect(stem).toMatchObject({ filters: 2 });
    expect(fc).toMatchObject({ units: 10 });
  });
});

describe('pruneAtInit', () => {
  it('at p = 0 gives a network identical to θ', async () => {
    const dense = buildNetwork(DIGITS, 4);
    const { network, spec, map } = await pruneAtInit(dense, 0, magnitudeCriterion);
    expect(spec).toEqual(dense.spec);
    expect(bits(network)).toEqual(bits(dense));
    for (const group of map.groups) expect(group.kept).toEqual([...Array(group.channels).keys()]);
    network.dispose();
    dense.dispose();
  });

  it('holds θ weights gathered at the kept indices, one index set per residual group', async () => {
    const dense = buildNetwork(architecture('resnet20', CIFAR), 5);
    const { network, spec, map } = await pruneAtInit(dense, 0.5, magnitudeCriterion);
    expect(prunedSpec(dense.spec, 0.5)).toEqual(spec);
    const kept = new Map(map.groups.map((g) => [g.id, g.kept]));
    const groupOf = new Map(
      channelGroups(dense.spec).flatMap((g) => g.layers.map((l) => [l, g.id])),
    );
    const stream = kept.get('stem.conv1')!;
    expect(stream).toHaveLength(8);
    // Every member of the stage-1 stream reads and writes the same kept channels.
    for (const layer of spec.layers) {
      if (layer.kind !== 'conv') continue;
      const expected = tf.tidy(() => {
        const w = dense.variables.get(`${layer.name}/kernel`)!;
        const rows = tf.gather(w, kept.get(groupOf.get(layer.input)!)!, 2);
        return Array.from(tf.gather(rows, kept.get(groupOf.get(layer.name)!)!, 3).dataSync());
      });
      expect(Array.from(network.variables.get(`${layer.name}/kernel`)!.dataSync())).toEqual(
        expected,
      );
    }
    const gamma = Array.from(dense.variables.get('stage1.block2.bn2/gamma')!.dataSync());
    const prunedGamma = network.variables.get('stage1.block2.bn2/gamma')!.dataSync();
    expect(Array.from(prunedGamma)).toEqual(stream.map((c) => gamma[c]));
    network.dispose();
    dense.dispose();
  });

  it('keeps the channels whose filter norms, summed over the group, are largest', async () => {
    const dense = buildNetwork(architecture('resnet20', CIFAR), 6);
    const groups = channelGroups(dense.spec);
    const { map } = await pruneAtInit(dense, 0.5, magnitudeCriterion);
    for (const group of groups.filter((g) => g.prunable)) {
      const score = tf.tidy(() =>
        Array.from(
          tf
            .addN(
              group.producers.map((p) =>
                tf.sqrt(tf.sum(tf.square(dense.variables.get(`${p}/kernel`)!), [0, 1, 2])),
              ),
            )
            .dataSync(),
        ),
      );
      const expected = [...score.keys()]
        .sort((a, b) => score[b]! - score[a]!)
        .slice(0, group.channels / 2)
        .sort((a, b) => a - b);
      expect(map.groups.find((g) => g.id === group.id)!.kept).toEqual(expected);
    }
    dense.dispose();
  });

  it('scores a residual group by all its members, not one', async () => {
    const dense = buildNetwork(DIGITS, 7);
    // Channel 3 of the stage-1 stream is weak in the stem but strong in the block's conv2.
    scaleOutputChannel(dense, 'stem.conv1/kernel', 3, 0.01);
    scaleOutputChannel(dense, 'stage1.block1.conv2/kernel', 3, 100);
    const { map } = await pruneAtInit(dense, 0.75, magnitudeCriterion);
    const kept = map.groups.find((g) => g.id === 'stem.conv1')!.kept;
    expect(kept).toHaveLength(2);
    expect(kept).toContain(3);
    dense.dispose();
  });

  it('records a JSON-serialisable map and leaks no tensors', async () => {
    const dense = buildNetwork(DIGITS, 8);
    const before = tf.memory().numTensors;
    const { network, map } = await pruneAtInit(dense, 0.5, magnitudeCriterion);
    expect(tf.memory().numTensors).toBe(before + network.variables.size);
    expect(JSON.parse(JSON.stringify(map))).toEqual(map);
    expect(map).toMatchObject({ arch: 'resnet8-digits', prune: 0.5, criterion: 'magnitude' });
    network.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dense.dispose();
  });

  it('explains a criterion that scores the wrong layers', async () => {
    const dense = buildNetwork(DIGITS, 9);
    const broken: PruningCriterion = { name: 'broken', channelScores: async () => new Map() };
    await expect(pruneAtInit(dense, 0.5, broken)).rejects.toThrow(
      /criterion 'broken' gave no scores for the 8 channels of 'stem.conv1'/,
    );
    dense.dispose();
  });
});

describe('snip criterion', () => {
  it('prunes a channel that cannot affect the loss, however large its weights, and leaves θ unchanged', async () => {
    const start = tf.memory().numTensors;
    const dense = buildNetwork(DIGITS, 10);
    // Channel 2 of stage-2 block-1 conv1: the largest filter, but its BN gamma is 0.
    scaleOutputChannel(dense, 'stage2.block1.conv1/kernel', 2, 10);
    scaleOutputChannel(dense, 'stage2.block1.bn1/gamma', 2, 0);
    const batch = {
      x: tf.randomNormal([8, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D,
      y: tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'),
    };
    const before = bits(dense);
    const tensors = tf.memory().numTensors;
    const snip = await pruneAtInit(dense, 0.5, snipCriterion(batch));
    const magnitude = await pruneAtInit(dense, 0.5, magnitudeCriterion);
    const keptBy = (map: typeof snip.map) =>
      map.groups.find((g) => g.id === 'stage2.block1.conv1')!.kept;
    expect(keptBy(magnitude.map)).toContain(2);
    expect(keptBy(snip.map)).not.toContain(2);
    expect(snip.map.criterion).toBe('snip');
    expect(bits(dense)).toEqual(before);
    // Two pruned networks, and the scalars θ's training-mode pass cached on θ.
    expect(tf.memory().numTensors - tensors - 2 * snip.network.variables.size).toBeLessThan(20);
    tf.dispose([batch.x, batch.y]);
    snip.network.dispose();
    magnitude.network.dispose();
    dense.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('needs labels that match the batch', async () => {
    const dense = buildNetwork(DIGITS, 11);
    const batch = { x: tf.zeros([4, 8, 8, 1]) as tf.Tensor4D, y: tf.tensor1d([0, 1], 'int32') };
    await expect(pruneAtInit(dense, 0.5, snipCriterion(batch))).rejects.toThrow(
      /snip: labels must be int32 \[4\]/,
    );
    tf.dispose([batch.x, batch.y]);
    dense.dispose();
  });
});

/** Multiplies one output channel (last axis) of a weight by `factor`. */
function scaleOutputChannel(
  network: Network,
  weight: string,
  channel: number,
  factor: number,
): void {
  const variable = network.variables.get(weight)!;
  const out = variable.shape.at(-1)!;
  const values = Float32Array.from(variable.dataSync(), (v, i) =>
    i % out === channel ? v * factor : v,
  );
  const scaled = tf.tensor(values, variable.shape);
  variable.assign(scaled);
  scaled.dispose();
}
