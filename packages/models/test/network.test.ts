import { selectBackend, tf } from '@prunefuse/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  architecture,
  architectureNames,
  buildNetwork,
  countParams,
  type ModelSpec,
  type Network,
  networkFromWeights,
} from '../src/index.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** conv(+bias) -> BN -> ReLU -> GAP -> dense: the smallest graph with every weight kind. */
const SMALL: ModelSpec = {
  arch: 'small',
  input: { height: 6, width: 6, channels: 2 },
  classes: 3,
  layers: [
    {
      kind: 'conv',
      name: 'c',
      input: 'input',
      filters: 4,
      kernel: 3,
      stride: 2,
      padding: 'same',
      bias: true,
    },
    { kind: 'batchnorm', name: 'bn', input: 'c', epsilon: 1e-3, momentum: 0.9 },
    { kind: 'relu', name: 'r', input: 'bn' },
    { kind: 'globalAvgPool', name: 'gap', input: 'r' },
    { kind: 'dense', name: 'fc', input: 'gap', units: 3, bias: true },
  ],
  features: 'gap',
  logits: 'fc',
};

const DIGITS = architecture('resnet8-digits', {
  input: { height: 8, width: 8, channels: 1 },
  classes: 10,
});

function values(network: Network): Map<string, Float32Array> {
  return new Map([...network.variables].map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

function randomWeights(network: Network, seed: number): Map<string, tf.Tensor> {
  return new Map(
    [...network.variables].map(([name, v], i) => {
      const t = tf.randomUniform(v.shape, 0.2, 1.5, 'float32', seed + i);
      return [name, name.endsWith('movingMean') || name.endsWith('/beta') ? tf.sub(t, 0.8) : t];
    }),
  );
}

describe('buildNetwork', () => {
  it('gives bit-identical weights for a seed and different ones for another seed', () => {
    const [a, b, c] = [buildNetwork(DIGITS, 7), buildNetwork(DIGITS, 7), buildNetwork(DIGITS, 8)];
    const [va, vb, vc] = [values(a), values(b), values(c)];
    for (const [name, value] of va) {
      expect(vb.get(name)).toEqual(value);
      if (!name.includes('bn')) expect(vc.get(name)).not.toEqual(value);
    }
    for (const n of [a, b, c]) n.dispose();
  });

  it('draws the same bits on every backend', async () => {
    const onCpu = buildNetwork(DIGITS, 3);
    const cpuValues = values(onCpu);
    onCpu.dispose();
    await selectBackend('wasm');
    try {
      const onWasm = buildNetwork(DIGITS, 3);
      expect(values(onWasm)).toEqual(cpuValues);
      onWasm.dispose();
    } finally {
      await selectBackend('cpu');
    }
  });

  it('initialises conv kernels He-normal (fan-out), dense like PyTorch, BN to identity', () => {
    const network = buildNetwork(
      architecture('resnet20', { input: { height: 32, width: 32, channels: 3 }, classes: 10 }),
      1,
    );
    const kernel = Array.from(network.variables.get('stage3.block2.conv1/kernel')!.dataSync());
    const mean = kernel.reduce((s, v) => s + v, 0) / kernel.length;
    const std = Math.sqrt(kernel.reduce((s, v) => s + (v - mean) ** 2, 0) / kernel.length);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(std / Math.sqrt(2 / (3 * 3 * 64))).toBeCloseTo(1, 1);
    const bound = 1 / Math.sqrt(64);
    for (const kind of ['kernel', 'bias']) {
      const dense = [...network.variables.get(`fc/${kind}`)!.dataSync()];
      expect(Math.max(...dense.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...dense.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    }
    expect([...network.variables.get('stem.bn1/gamma')!.dataSync()]).toEqual(new Array(16).fill(1));
    expect([...network.variables.get('stem.bn1/movingVariance')!.dataSync()]).toEqual(
      new Array(16).fill(1),
    );
    expect([...network.variables.get('stem.bn1/beta')!.dataSync()]).toEqual(new Array(16).fill(0));
    network.dispose();
  });

  it.each(architectureNames())(
    '%s: the built network has exactly the counted parameters',
    (name) => {
      const spec = architecture(name, {
        input: { height: 16, width: 16, channels: 3 },
        classes: 10,
      });
      const before = tf.memory().numTensors;
      const network = buildNetwork(spec, 0);
      const trainable = network.trainableVariables().reduce((sum, v) => sum + v.size, 0);
      expect(trainable).toBe(countParams(spec));
      network.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('Network.apply', () => {
  it('in inference equals conv -> BN(moving statistics) -> ReLU -> pool -> dense done op by op', () => {
    const template = buildNetwork(SMALL, 3);
    const weights = randomWeights(template, 11);
    const network = networkFromWeights(SMALL, weights);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const w = (name: string) => weights.get(name)!;
    const expected = tf.tidy(() => {
      const conv = tf.add(tf.conv2d(x, w('c/kernel') as tf.Tensor4D, 2, 'same'), w('c/bias'));
      const normalised = tf.add(
        tf.mul(
          tf.div(tf.sub(conv, w('bn/movingMean')), tf.sqrt(tf.add(w('bn/movingVariance'), 1e-3))),
          w('bn/gamma'),
        ),
        w('bn/beta'),
      );
      const features = tf.mean(tf.relu(normalised), [1, 2]);
      return [features, tf.add(tf.matMul(features, w('fc/kernel') as tf.Tensor2D), w('fc/bias'))];
    });
    const out = network.apply(x, { training: false });
    expect(out.features.shape).toEqual([2, 4]);
    expect(out.logits.shape).toEqual([2, 3]);
    expectClose(out.features.dataSync(), expected[0]!.dataSync(), 1e-5);
    expectClose(out.logits.dataSync(), expected[1]!.dataSync(), 1e-5);
    tf.dispose([x, out.features, out.logits, ...expected, ...weights.values()]);
    template.dispose();
    network.dispose();
  });

  it('in training normalises with batch statistics and moves the moving statistics (only then)', () => {
    const network = buildNetwork(SMALL, 3);
    const x = tf.randomNormal([4, 6, 6, 2], 1, 2, 'float32', 6) as tf.Tensor4D;
    const [batchMean, batchVar, expectedFeatures] = tf.tidy(() => {
      const conv = tf.conv2d(x, network.variables.get('c/kernel')! as tf.Tensor4D, 2, 'same');
      const m = tf.moments(conv, [0, 1, 2]);
      // gamma 1 and beta 0 at initialisation.
      const normalised = tf.div(tf.sub(conv, m.mean), tf.sqrt(tf.add(m.variance, 1e-3)));
      // 4 x 3 x 3 = 36 values per channel; the moving variance takes the unbiased estimate.
      return [m.mean, tf.mul(m.variance, 36 / 35), tf.mean(tf.relu(normalised), [1, 2])];
    });
    const inference = network.apply(x, { training: false });
    expect(network.variables.get('bn/movingMean')!.dataSync()).toEqual(new Float32Array(4));
    const before = tf.memory().numTensors;
    const out = network.apply(x, { training: true });
    const [movingMean, movingVariance] = tf.tidy(() => [
      tf.mul(batchMean!, 0.1).dataSync(),
      tf.add(0.9, tf.mul(batchVar!, 0.1)).dataSync(),
    ]);
    expectClose(network.variables.get('bn/movingMean')!.dataSync(), movingMean!, 1e-5);
    expectClose(network.variables.get('bn/movingVariance')!.dataSync(), movingVariance!, 1e-5);
    expectClose(out.features.dataSync(), expectedFeatures!.dataSync(), 1e-5);
    expectClose(inference.features.dataSync(), expectedFeatures!.dataSync(), 1e-5, false);
    tf.dispose([out.features, out.logits]);
    // The first step leaves only the network's cached scalars; later steps nothing.
    const afterFirst = tf.memory().numTensors;
    expect(afterFirst - before).toBeLessThan(10);
    tf.dispose(Object.values(network.apply(x, { training: true })));
    expect(tf.memory().numTensors).toBe(afterFirst);
    tf.dispose([x, batchMean!, batchVar!, expectedFeatures!, inference.features, inference.logits]);
    network.dispose();
  });

  it('in inference follows every weight change: training, setWeights, a direct assign', () => {
    const network = buildNetwork(SMALL, 3);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 8) as tf.Tensor4D;
    /** The logits a freshly built network with the same weights gives: no cache to go stale. */
    const reference = () => {
      const weights = network.getWeights();
      const fresh = networkFromWeights(SMALL, weights);
      const logits = tf.tidy(() => fresh.apply(x, { training: false }).logits.dataSync());
      fresh.dispose();
      tf.dispose([...weights.values()]);
      return logits;
    };
    const inferred = () => tf.tidy(() => network.apply(x, { training: false }).logits.dataSync());
    const first = inferred();
    expectClose(first, reference(), 1e-6);
    const before = tf.memory().numTensors;
    expectClose(inferred(), first, 0);
    expect(tf.memory().numTensors).toBe(before);
    // Training mode moves the moving statistics (and caches the network's scalars).
    tf.dispose(Object.values(network.apply(x, { training: true })));
    const settled = tf.memory().numTensors;
    expectClose(inferred(), reference(), 1e-6);
    expectClose(inferred(), first, 1e-3, false);
    // A direct assign (as fusion and SNIP's restore do) to a conv kernel and a BN scale.
    const kernel = network.variables.get('c/kernel')!;
    tf.tidy(() => kernel.assign(tf.mul(kernel, 2)));
    const gamma = network.variables.get('bn/gamma')!;
    tf.tidy(() => gamma.assign(tf.add(gamma, 0.5)));
    const afterAssign = inferred();
    expectClose(afterAssign, reference(), 1e-6);
    // setWeights back to the first weights' values brings the first logits back.
    const original = buildNetwork(SMALL, 3);
    const weights = original.getWeights();
    original.dispose();
    network.setWeights(weights);
    tf.dispose([...weights.values()]);
    expectClose(inferred(), first, 1e-6);
    expect(tf.memory().numTensors).toBe(settled);
    tf.dispose(x);
    network.dispose();
  });

  it('trains inside optimizer.minimize: the loss falls and no tensor leaks', () => {
    const start = tf.memory().numTensors;
    const network = buildNetwork(DIGITS, 2);
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10));
    const optimizer = tf.train.momentum(0.05, 0.9);
    const step = () =>
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, network.apply(x, { training: true }).logits),
        true,
        network.trainableVariables(),
      )!;
    const first = step();
    const loss0 = first.dataSync()[0]!;
    first.dispose();
    const before = tf.memory().numTensors;
    let loss = loss0;
    for (let i = 0; i < 4; i++) {
      const value = step();
      loss = value.dataSync()[0]!;
      value.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(loss).toBeLessThan(0.5 * loss0);
    tf.dispose([x, labels]);
    optimizer.dispose();
    network.dispose();
    // Disposing frees the network's weights, cached scalars and folded weights; tfjs's
    // MomentumOptimizer.dispose() keeps its learning-rate scalar (a tfjs leak).
    expect(tf.memory().numTensors).toBe(start + 1);
  });
});

describe('Network weights', () => {
  it('round-trips getWeights/setWeights and rejects wrong or missing weights', () => {
    const a = buildNetwork(DIGITS, 1);
    const b = buildNetwork(DIGITS, 2);
    const weights = a.getWeights();
    b.setWeights(weights);
    tf.dispose([...weights.values()]);
    expect(values(b)).toEqual(values(a));
    const wrong = new Map([...b.getWeights()]);
    const kernel = wrong.get('fc/kernel')!;
    wrong.set('fc/kernel', tf.zeros([31, 10]));
    expect(() => b.setWeights(wrong)).toThrow(
      /weight 'fc\/kernel' must be float32 \[32,10\], got float32 \[31,10\]/,
    );
    wrong.delete('fc/kernel');
    expect(() => b.setWeights(wrong)).toThrow(/weight 'fc\/kernel' is missing/);
    tf.dispose([kernel, ...wrong.values()]);
    a.dispose();
    b.dispose();
  });

  it('says which input shape it expects', () => {
    const network = buildNetwork(DIGITS, 1);
    const x = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
    expect(() => network.apply(x, { training: false })).toThrow(
      /resnet8-digits expects inputs of shape \[batch, 8, 8, 1\], got \[1,28,28,1\]/,
    );
    x.dispose();
    network.dispose();
  });
});

/** Element-wise closeness (or, with `close` false, that some element is not close). */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  close = true,
): void {
  expect(actual.length).toBe(expected.length);
  const far = Array.from(actual).some(
    (value, i) => Math.abs(value - expected[i]!) > tolerance * Math.max(1, Math.abs(expected[i]!)),
  );
  expect(far).toBe(!close);
}
