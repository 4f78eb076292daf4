import type { InputShape, ModelSpec } from '../spec.js';
import { SpecBuilder } from './spec-builder.js';

export interface ResNetStage {
  /** Channels of the block's inner convs (the bottleneck width for bottleneck blocks). */
  width: number;
  blocks: number;
  /** Stride of the stage's first block. */
  stride: number;
}

/**
 * A post-activation ResNet (He et al. 2016): a 3x3 stride-1 stem conv, stages of basic
 * blocks (two 3x3 convs) or bottleneck blocks (1x1, 3x3 carrying the stride as in
 * torchvision's v1.5, 1x1 to 4x width), global average pooling, a linear classifier.
 * Shortcuts are identities where shapes match and 1x1 conv + BN projections where
 * they change (option B), so every residual addition is explicit in the graph.
 */
export interface ResNetDesign {
  arch: string;
  stemFilters: number;
  block: 'basic' | 'bottleneck';
  stages: readonly ResNetStage[];
}

const EXPANSION = { basic: 1, bottleneck: 4 } as const;

export function resnet(design: ResNetDesign, input: InputShape, classes: number): ModelSpec {
  const b = new SpecBuilder();
  const convBn = (
    prefix: string,
    index: number,
    from: string,
    filters: number,
    kernel: number,
    stride = 1,
  ) =>
    b.batchnorm(
      `${prefix}.bn${index}`,
      b.conv(`${prefix}.conv${index}`, from, filters, kernel, stride),
    );

  let x = b.relu('stem.relu', convBn('stem', 1, 'input', design.stemFilters, 3));
  let channels = design.stemFilters;
  design.stages.forEach((stage, s) => {
    const outChannels = stage.width * EXPANSION[design.block];
    for (let i = 0; i < stage.blocks; i++) {
      const prefix = `stage${s + 1}.block${i + 1}`;
      const stride = i === 0 ? stage.stride : 1;
      let y: string;
      if (design.block === 'basic') {
        y = b.relu(`${prefix}.relu1`, convBn(prefix, 1, x, stage.width, 3, stride));
        y = convBn(prefix, 2, y, outChannels, 3);
      } else {
        y = b.relu(`${prefix}.relu1`, convBn(prefix, 1, x, stage.width, 1));
        y = b.relu(`${prefix}.relu2`, convBn(prefix, 2, y, stage.width, 3, stride));
        y = convBn(prefix, 3, y, outChannels, 1);
      }
      const shortcut =
        stride !== 1 || channels !== outChannels
          ? convBn(`${prefix}.shortcut`, 1, x, outChannels, 1, stride)
          : x;
      x = b.relu(`${prefix}.relu`, b.add(`${prefix}.add`, [y, shortcut]));
      channels = outChannels;
    }
  });
  const features = b.globalAvgPool('pool', x);
  const logits = b.dense('fc', features, classes);
  return b.build(design.arch, input, classes, features, logits);
}

/** He et al.'s CIFAR ResNets of depth 6n+2: three stages of n basic blocks, the given widths. */
export function cifarResNetDesign(
  arch: string,
  depth: number,
  widths: readonly [number, number, number] = [16, 32, 64],
): ResNetDesign {
  const n = (depth - 2) / 6;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${arch}: CIFAR ResNet depth must be 6n+2, got ${depth}`);
  return {
    arch,
    stemFilters: widths[0],
    block: 'basic',
    stages: widths.map((width, s) => ({ width, blocks: n, stride: s === 0 ? 1 : 2 })),
  };
}

/**
 * torchvision's ResNet-18/50 adapted to small (64x64 Tiny-ImageNet) inputs the usual
 * way: a 3x3 stride-1 stem instead of 7x7 stride 2, and no max-pool, so 64x64 inputs
 * reach the last stage at 8x8 rather than 2x2.
 */
export function imagenetResNetDesign(
  arch: string,
  block: 'basic' | 'bottleneck',
  blocks: readonly number[],
): ResNetDesign {
  return {
    arch,
    stemFilters: 64,
    block,
    stages: blocks.map((count, s) => ({
      width: 64 * 2 ** s,
      blocks: count,
      stride: s === 0 ? 1 : 2,
    })),
  };
}
