import { describe, expect, it } from 'vitest';
import { countMacs, countParams, layerCosts, type ModelSpec } from '../src/index.js';

/** conv 3x3 s2 (8x8x3 -> 4x4x4) -> BN -> ReLU -> add with itself -> GAP -> dense 4 -> 5. */
const TINY: ModelSpec = {
  arch: 'tiny',
  input: { height: 8, width: 8, channels: 3 },
  classes: 5,
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
    { kind: 'batchnorm', name: 'bn', input: 'c', epsilon: 1e-5, momentum: 0.9 },
    { kind: 'relu', name: 'r', input: 'bn' },
    { kind: 'add', name: 'a', inputs: ['r', 'r'] },
    { kind: 'maxpool', name: 'mp', input: 'a', size: 2, stride: 2, padding: 'valid' },
    { kind: 'globalAvgPool', name: 'gap', input: 'mp' },
    { kind: 'dense', name: 'fc', input: 'gap', units: 5, bias: true },
  ],
  features: 'gap',
  logits: 'fc',
};

describe('analytic counts', () => {
  it('counts each layer by hand-checkable rules', () => {
    expect(layerCosts(TINY)).toEqual([
      {
        name: 'c',
        kind: 'conv',
        params: 3 * 3 * 3 * 4 + 4,
        macs: 4 * 4 * 4 * (3 * 3 * 3),
        outputShape: [4, 4, 4],
      },
      { name: 'bn', kind: 'batchnorm', params: 8, macs: 64, outputShape: [4, 4, 4] },
      { name: 'r', kind: 'relu', params: 0, macs: 0, outputShape: [4, 4, 4] },
      { name: 'a', kind: 'add', params: 0, macs: 0, outputShape: [4, 4, 4] },
      { name: 'mp', kind: 'maxpool', params: 0, macs: 0, outputShape: [2, 2, 4] },
      { name: 'gap', kind: 'globalAvgPool', params: 0, macs: 0, outputShape: [4] },
      { name: 'fc', kind: 'dense', params: 4 * 5 + 5, macs: 20, outputShape: [5] },
    ]);
    expect(countParams(TINY)).toBe(112 + 8 + 25);
    expect(countMacs(TINY)).toBe(1728 + 64 + 20);
  });

  it('scales conv MACs with the input area', () => {
    const big = { ...TINY, input: { height: 16, width: 16, channels: 3 } };
    expect(layerCosts(big)[0]!.macs).toBe(4 * layerCosts(TINY)[0]!.macs);
    expect(countParams(big)).toBe(countParams(TINY));
  });

  it('explains a malformed spec', () => {
    const broken = {
      ...TINY,
      layers: TINY.layers.map((l) => (l.name === 'fc' ? { ...l, input: 'mp' } : l)),
    };
    expect(() => countMacs(broken)).toThrow(
      /layer 'fc': needs a vector input \(add a globalAvgPool\)/,
    );
    const unordered = { ...TINY, layers: [...TINY.layers].reverse() };
    expect(() => countParams(unordered)).toThrow(/layer 'fc': input 'gap' is not an earlier layer/);
    expect(() => countParams({ ...TINY, classes: 6 })).toThrow(/gives shape \[5\], expected \[6\]/);
    expect(() => countParams({ ...TINY, input: { height: 2, width: 2, channels: 3 } })).toThrow(
      /layer 'mp': a 1x1 input is too small for it \(output 0x0\)/,
    );
  });
});
