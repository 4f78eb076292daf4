import { activationShapes } from './shapes.js';
import type { ModelSpec } from './spec.js';

export type WeightKind = 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance';

/** One weight a spec implies, with the channel space behind each of its axes. */
export interface WeightSpec {
  /** `${layer}/${kind}`. */
  name: string;
  layer: string;
  kind: WeightKind;
  /** Conv kernels [kh, kw, in, out]; dense kernels [in, out]; the rest [channels]. */
  shape: number[];
  /** Whether the optimiser updates it (BN moving statistics are not). */
  trainable: boolean;
  /**
   * For each axis, the layer whose output channels it indexes (null for a kernel's
   * spatial axes): pruning and fusion select along these axes by channel group.
   */
  channelAxes: Array<string | null>;
}

/** Every weight of a spec, in layer order. */
export function weightSpecs(spec: ModelSpec): WeightSpec[] {
  const shapes = activationShapes(spec);
  const channelsOf = (layer: string) => {
    const shape = shapes.get(layer)!;
    return shape[shape.length - 1]!;
  };
  const weights: WeightSpec[] = [];
  const add = (
    layer: string,
    kind: WeightKind,
    shape: number[],
    channelAxes: Array<string | null>,
  ) =>
    weights.push({
      name: `${layer}/${kind}`,
      layer,
      kind,
      shape,
      trainable: kind !== 'movingMean' && kind !== 'movingVariance',
      channelAxes,
    });
  for (const layer of spec.layers) {
    switch (layer.kind) {
      case 'conv':
        add(
          layer.name,
          'kernel',
          [layer.kernel, layer.kernel, channelsOf(layer.input), layer.filters],
          [null, null, layer.input, layer.name],
        );
        if (layer.bias) add(layer.name, 'bias', [layer.filters], [layer.name]);
        break;
      case 'dense':
        add(
          layer.name,
          'kernel',
          [channelsOf(layer.input), layer.units],
          [layer.input, layer.name],
        );
        if (layer.bias) add(layer.name, 'bias', [layer.units], [layer.name]);
        break;
      case 'batchnorm': {
        const channels = channelsOf(layer.input);
        for (const kind of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) {
          add(layer.name, kind, [channels], [layer.name]);
        }
        break;
      }
      case 'relu':
      case 'add':
      case 'maxpool':
      case 'globalAvgPool':
        break;
    }
  }
  return weights;
}
