import { describe, expect, it } from 'vitest';
import { architecture, channelGroups, type ModelSpec } from '../src/index.js';

const CIFAR = { input: { height: 32, width: 32, channels: 3 }, classes: 10 };

describe('channel groups', () => {
  it('ties the stem and each stage residual stream of ResNet-20 into one group', () => {
    const groups = channelGroups(architecture('resnet20', CIFAR));
    // image, classes, 3 residual streams, one inner conv per block (9).
    expect(groups).toHaveLength(14);
    const byId = new Map(groups.map((g) => [g.id, g]));
    expect(byId.get('input')).toMatchObject({ channels: 3, prunable: false, producers: [] });
    expect(byId.get('fc')).toMatchObject({ channels: 10, prunable: false, producers: ['fc'] });
    expect(byId.get('stem.conv1')).toMatchObject({
      channels: 16,
      prunable: true,
      producers: [
        'stem.conv1',
        'stage1.block1.conv2',
        'stage1.block2.conv2',
        'stage1.block3.conv2',
      ],
    });
    expect(byId.get('stage2.block1.conv2')!.producers).toEqual([
      'stage2.block1.conv2',
      'stage2.block1.shortcut.conv1',
      'stage2.block2.conv2',
      'stage2.block3.conv2',
    ]);
    expect(byId.get('stage3.block1.conv2')!.layers).toContain('pool');
    expect(byId.get('stage2.block2.conv1')).toMatchObject({
      channels: 32,
      producers: ['stage2.block2.conv1'],
      layers: ['stage2.block2.conv1', 'stage2.block2.bn1', 'stage2.block2.relu1'],
    });
  });

  it('gives pre-activation ResNet-164 one stream group per stage of 18 blocks plus its projection', () => {
    const groups = channelGroups(architecture('preact-resnet164', CIFAR));
    const streams = groups.filter((g) => g.producers.length > 1);
    expect(streams.map((g) => [g.channels, g.producers.length])).toEqual([
      [64, 19],
      [128, 19],
      [256, 19],
    ]);
    // The stem conv feeds only the first projection and the first block, not an addition.
    expect(groups.find((g) => g.id === 'stem.conv1')!.producers).toEqual(['stem.conv1']);
    // 2 inner convs per block, the stem, the streams, image and classes.
    expect(groups).toHaveLength(3 * 18 * 2 + 1 + 3 + 2);
  });

  it('merges spaces transitively through chained additions, whatever the layer names', () => {
    const conv = (name: string, input: string) =>
      ({
        kind: 'conv',
        name,
        input,
        filters: 4,
        kernel: 1,
        stride: 1,
        padding: 'same',
        bias: false,
      }) as const;
    const spec: ModelSpec = {
      arch: 'chain',
      input: { height: 4, width: 4, channels: 2 },
      classes: 3,
      layers: [
        conv('x', 'input'),
        conv('y', 'input'),
        conv('z', 'input'),
        conv('w', 'x'),
        { kind: 'add', name: 'a1', inputs: ['y', 'z'] },
        { kind: 'relu', name: 'r', input: 'x' },
        { kind: 'add', name: 'a2', inputs: ['a1', 'r'] },
        { kind: 'globalAvgPool', name: 'gap', input: 'w' },
        { kind: 'dense', name: 'fc', input: 'gap', units: 3, bias: true },
      ],
      features: 'gap',
      logits: 'fc',
    };
    const groups = channelGroups(spec);
    expect(groups.map((g) => [g.id, g.producers])).toEqual([
      ['input', []],
      ['x', ['x', 'y', 'z']],
      ['w', ['w']],
      ['fc', ['fc']],
    ]);
  });
});
