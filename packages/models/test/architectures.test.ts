import { describe, expect, it } from 'vitest';
import {
  activationShapes,
  architecture,
  architectureNames,
  countMacs,
  countParams,
  type InputShape,
} from '../src/index.js';

const CIFAR: InputShape = { height: 32, width: 32, channels: 3 };

describe('architecture registry', () => {
  it('knows the paper families and the small digits ResNet', () => {
    expect(architectureNames()).toEqual(
      expect.arrayContaining([
        'resnet8',
        'resnet20',
        'resnet32',
        'resnet44',
        'resnet56',
        'resnet110',
        'preact-resnet164',
        'resnet18',
        'resnet50',
        'resnet8-digits',
      ]),
    );
  });

  it('names the known architectures when asked for an unknown one', () => {
    expect(() => architecture('resnet57', { input: CIFAR, classes: 10 })).toThrow(
      /unknown architecture 'resnet57'; known: resnet8, resnet20, .*resnet56/,
    );
  });

  it('rejects an impossible input shape or class count', () => {
    expect(() => architecture('resnet20', { input: CIFAR, classes: 0 })).toThrow(
      /classes must be a positive integer/,
    );
    expect(() =>
      architecture('resnet20', { input: { height: 0, width: 32, channels: 3 }, classes: 10 }),
    ).toThrow(/input height must be a positive integer/);
  });

  it.each([
    ['resnet20', 0.27e6, 41e6],
    ['resnet56', 0.85e6, 125e6],
    ['resnet110', 1.73e6, 253e6],
  ])('%s has the published size within 2%% (32x32x3, 10 classes)', (name, params, macs) => {
    const spec = architecture(name, { input: CIFAR, classes: 10 });
    expect(Math.abs(countParams(spec) / params - 1)).toBeLessThan(0.02);
    expect(Math.abs(countMacs(spec) / macs - 1)).toBeLessThan(0.02);
  });

  it('pre-activation ResNet-164 has its published 1.7 M parameters', () => {
    const spec = architecture('preact-resnet164', { input: CIFAR, classes: 10 });
    expect(Math.abs(countParams(spec) / 1.7e6 - 1)).toBeLessThan(0.02);
    // 164 = 3 stages x 18 blocks x 3 convs + the stem conv + the classifier.
    const weighted = spec.layers.filter(
      (l) => (l.kind === 'conv' && !l.name.includes('shortcut')) || l.kind === 'dense',
    );
    expect(weighted).toHaveLength(164);
  });

  it('ResNet-18 and ResNet-50 keep torchvision parameter counts (stem aside) on 64x64 inputs', () => {
    const options = { input: { height: 64, width: 64, channels: 3 }, classes: 1000 };
    // torchvision: 11,689,512 and 25,557,032 with a 7x7 stem (9,408 weights); ours is 3x3 (1,728).
    expect(countParams(architecture('resnet18', options))).toBe(11_689_512 - 9_408 + 1_728);
    expect(countParams(architecture('resnet50', options))).toBe(25_557_032 - 9_408 + 1_728);
    const shapes = activationShapes(architecture('resnet50', options));
    expect(shapes.get('stage4.block3.relu')).toEqual([8, 8, 2048]);
  });

  it('CIFAR ResNets have 6n+2 weighted layers and projections only where shapes change', () => {
    for (const [name, n] of [
      ['resnet20', 3],
      ['resnet32', 5],
      ['resnet44', 7],
      ['resnet56', 9],
      ['resnet110', 18],
    ] as const) {
      const spec = architecture(name, { input: CIFAR, classes: 10 });
      const convs = spec.layers.filter((l) => l.kind === 'conv');
      expect(convs.filter((l) => !l.name.includes('shortcut'))).toHaveLength(6 * n + 1);
      expect(convs.filter((l) => l.name.includes('shortcut')).map((l) => l.name)).toEqual([
        'stage2.block1.shortcut.conv1',
        'stage3.block1.shortcut.conv1',
      ]);
    }
  });

  it('ResNet-8 (one basic block per stage at 16/32/64) matches its hand count at 28x28x1', () => {
    const spec = architecture('resnet8', {
      input: { height: 28, width: 28, channels: 1 },
      classes: 10,
    });
    // Bias-free convs, each followed by a BN (gamma + beta per channel, one MAC per output).
    const conv = (size: number, kernel: number, cin: number, cout: number) => ({
      params: kernel * kernel * cin * cout + 2 * cout,
      macs: size * size * cout * (kernel * kernel * cin + 1),
    });
    const layers = [
      conv(28, 3, 1, 16), // stem
      conv(28, 3, 16, 16), // stage 1: identity shortcut
      conv(28, 3, 16, 16),
      conv(14, 3, 16, 32), // stage 2: stride 2, 1x1 projection
      conv(14, 3, 32, 32),
      conv(14, 1, 16, 32),
      conv(7, 3, 32, 64), // stage 3: stride 2, 1x1 projection
      conv(7, 3, 64, 64),
      conv(7, 1, 32, 64),
      { params: 64 * 10 + 10, macs: 64 * 10 }, // classifier
    ];
    expect(countParams(spec)).toBe(layers.reduce((sum, l) => sum + l.params, 0));
    expect(countMacs(spec)).toBe(layers.reduce((sum, l) => sum + l.macs, 0));
    expect([countParams(spec), countMacs(spec)]).toEqual([77_754, 9_411_776]);
    expect(spec.layers.filter((l) => l.kind === 'add')).toHaveLength(3);
    expect(
      spec.layers
        .filter((l) => l.kind === 'conv' && l.name.includes('shortcut'))
        .map((l) => l.name),
    ).toEqual(['stage2.block1.shortcut.conv1', 'stage3.block1.shortcut.conv1']);
  });

  it('takes the input shape and class count as parameters and names features and logits', () => {
    const spec = architecture('resnet8-digits', {
      input: { height: 28, width: 28, channels: 1 },
      classes: 7,
    });
    const shapes = activationShapes(spec);
    expect(shapes.get(spec.features)).toEqual([32]);
    expect(shapes.get(spec.logits)).toEqual([7]);
    expect(spec.layers.filter((l) => l.kind === 'add')).toHaveLength(3);
    expect(countMacs(spec)).toBeLessThan(3e6);
  });
});
