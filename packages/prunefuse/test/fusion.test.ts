import { selectBackend, tf } from '@prunefuse/engine';
import {
  architecture,
  architectureNames,
  buildNetwork,
  channelGroups,
  type Network,
  weightSpecs,
} from '@prunefuse/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuseInto, magnitudeCriterion, pruneAtInit } from '../src/index.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const SMALL = { input: { height: 16, width: 16, channels: 3 }, classes: 10 };

/**
 * Stands in for training: every weight of θp gets new values of a plausible scale, from
 * a cheap deterministic hash (the big ImageNet-style nets have millions of weights).
 */
function pretendTrained(network: Network, seed: number): void {
  const weights = new Map<string, tf.Tensor>();
  for (const weight of weightSpecs(network.spec)) {
    const size = weight.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const fanIn =
      weight.shape.length === 4
        ? weight.shape[0]! * weight.shape[1]! * weight.shape[2]!
        : weight.shape[0]!;
    const ranges: Record<typeof weight.kind, [number, number]> = {
      kernel: [0, Math.sqrt(6 / fanIn)],
      bias: [0, 0.2],
      gamma: [1, 0.5],
      beta: [0, 0.3],
      movingMean: [0, 0.3],
      movingVariance: [1.25, 0.75],
    };
    const [offset, spread] = ranges[weight.kind];
    for (let i = 0; i < size; i++) {
      const hash = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
      values[i] = offset + spread * (2 * (hash - Math.floor(hash)) - 1);
    }
    weights.set(weight.name, tf.tensor(values, weight.shape));
  }
  network.setWeights(weights);
  tf.dispose([...weights.values()]);
}

function logits(network: Network, x: tf.Tensor4D): Float32Array {
  const out = network.apply(x, { training: false });
  const values = out.logits.dataSync() as Float32Array;
  tf.dispose([out.logits, out.features]);
  return values;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
}

function bits(network: Network): Map<string, Float32Array> {
  return new Map([...network.variables].map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

describe('fuseInto is exact', () => {
  it.each(architectureNames())(
    "%s: with fill 'zero' the fused network computes θp*'s logits, for several p",
    async (name) => {
      const spec = architecture(
        name,
        name.includes('digits')
          ? { ...SMALL, input: { height: 16, width: 16, channels: 1 } }
          : SMALL,
      );
      const dense = buildNetwork(spec, 1);
      const x = tf.randomNormal(
        [2, 16, 16, spec.input.channels],
        0,
        1,
        'float32',
        2,
      ) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      for (const p of [0.3, 0.5, 0.8]) {
        const pruned = await pruneAtInit(dense, p, magnitudeCriterion);
        pretendTrained(pruned.network, Math.round(p * 10));
        const expected = logits(pruned.network, x);
        const scale = Math.max(1, ...expected.map(Math.abs));
        const zero = await fuseInto(dense, pruned.network, pruned.map, { fill: 'zero' });
        expect(maxAbsDifference(logits(zero, x), expected) / scale).toBeLessThan(1e-4);
        // θ's own initial weights at the unkept positions change the function.
        const init = await fuseInto(dense, pruned.network, pruned.map, { fill: 'init' });
        expect(maxAbsDifference(logits(init, x), expected) / scale).toBeGreaterThan(1e-2);
        for (const n of [pruned.network, zero, init]) n.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      dense.dispose();
    },
  );

  it.each(['init', 'zero'] as const)(
    "with p = 0 and fill '%s' reproduces θp* bit for bit",
    async (fill) => {
      const dense = buildNetwork(architecture('resnet20', SMALL), 3);
      const pruned = await pruneAtInit(dense, 0, magnitudeCriterion);
      pretendTrained(pruned.network, 4);
      const fused = await fuseInto(dense, pruned.network, pruned.map, { fill });
      expect(bits(fused)).toEqual(bits(pruned.network));
      const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      expect(logits(fused, x)).toEqual(logits(pruned.network, x));
      x.dispose();
      for (const n of [dense, pruned.network, fused]) n.dispose();
    },
  );
});

describe('fuseInto places every weight', () => {
  /**
   * For each position of a dense weight: the pruned position it came from, or null when
   * one of its channel axes holds an unkept channel (decoded independently of fuseInto).
   */
  function sourceOf(
    denseShape: number[],
    axes: Array<string | null>,
    keptOf: (layer: string) => number[],
  ) {
    const keptAxes = axes.map((layer) => (layer === null ? null : keptOf(layer)));
    const prunedShape = denseShape.map((size, a) => keptAxes[a]?.length ?? size);
    return (flat: number): number | null => {
      let rest = flat;
      let source = 0;
      let stride = prunedShape.reduce((x, y) => x * y, 1);
      let denseStride = denseShape.reduce((x, y) => x * y, 1);
      for (let a = 0; a < denseShape.length; a++) {
        denseStride /= denseShape[a]!;
        stride /= prunedShape[a]!;
        const index = Math.floor(rest / denseStride);
        rest -= index * denseStride;
        const position = keptAxes[a] ? keptAxes[a]!.indexOf(index) : index;
        if (position < 0) return null;
        source += position * stride;
      }
      return source;
    };
  }

  it.each(['init', 'zero'] as const)(
    "keeps θp* at kept positions and θ's init (or zero) elsewhere, bit for bit; θ and θp* unchanged (fill '%s')",
    async (fill) => {
      const dense = buildNetwork(architecture('resnet20', SMALL), 6);
      const pruned = await pruneAtInit(dense, 0.5, magnitudeCriterion);
      pretendTrained(pruned.network, 7);
      const [denseBefore, prunedBefore] = [bits(dense), bits(pruned.network)];
      const fused = await fuseInto(dense, pruned.network, pruned.map, { fill });
      const keptById = new Map(pruned.map.groups.map((g) => [g.id, g.kept]));
      const keptByLayer = new Map(
        channelGroups(dense.spec).flatMap((g) =>
          g.layers.map((layer) => [layer, keptById.get(g.id)!] as const),
        ),
      );
      const keptOf = (layer: string) => keptByLayer.get(layer)!;
      let unkept = 0;
      for (const weight of weightSpecs(dense.spec)) {
        const fusedValues = fused.variables.get(weight.name)!.dataSync();
        const denseValues = denseBefore.get(weight.name)!;
        const prunedValues = prunedBefore.get(weight.name)!;
        const source = sourceOf(weight.shape, weight.channelAxes, keptOf);
        for (let i = 0; i < fusedValues.length; i++) {
          const from = source(i);
          if (from === null) unkept++;
          const expected =
            from !== null
              ? prunedValues[from]
              : fill === 'init' || weight.kind === 'movingVariance'
                ? denseValues[i]
                : 0;
          if (!Object.is(fusedValues[i], expected)) {
            expect.fail(
              `${weight.name}[${i}] = ${fusedValues[i]}, expected ${expected} (source ${from})`,
            );
          }
        }
      }
      expect(unkept).toBeGreaterThan(
        0.5 * dense.trainableVariables().reduce((s, v) => s + v.size, 0),
      );
      expect(bits(dense)).toEqual(denseBefore);
      expect(bits(pruned.network)).toEqual(prunedBefore);
      for (const n of [dense, pruned.network, fused]) n.dispose();
    },
  );
});

describe('fuseInto checks its inputs', () => {
  it('rejects a map or pruned network that does not belong to θ', async () => {
    const dense = buildNetwork(architecture('resnet20', SMALL), 8);
    const other = buildNetwork(architecture('resnet32', SMALL), 8);
    const fromOther = await pruneAtInit(other, 0.5, magnitudeCriterion);
    const half = await pruneAtInit(dense, 0.5, magnitudeCriterion);
    const third = await pruneAtInit(dense, 0.3, magnitudeCriterion);
    await expect(
      fuseInto(dense, fromOther.network, fromOther.map, { fill: 'init' }),
    ).rejects.toThrow(/channel map \(from resnet32\) has groups .* that resnet20 lacks/);
    await expect(fuseInto(dense, third.network, half.map, { fill: 'init' })).rejects.toThrow(
      /fuseInto: the pruned network's 'stem.conv1\/kernel' has \d+ values, the channel map selects \d+: was it pruned from resnet20 with this map\?/,
    );
    const tampered = {
      ...half.map,
      groups: half.map.groups.map((g) => (g.id === 'fc' ? { ...g, kept: [0, 1] } : g)),
    };
    await expect(fuseInto(dense, half.network, tampered, { fill: 'init' })).rejects.toThrow(
      /group 'fc' \(image or classes\) may not be pruned/,
    );
    for (const n of [dense, other, fromOther.network, half.network, third.network]) n.dispose();
  });
});
