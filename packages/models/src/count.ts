import { type ActivationShape, activationShapes } from './shapes.js';
import type { LayerKind, ModelSpec } from './spec.js';
import { weightSpecs } from './weights.js';

/** Parameters and forward multiply-accumulates of one layer, for one example. */
export interface LayerCost {
  name: string;
  kind: LayerKind;
  /** Trainable parameters (BN gamma and beta count, moving statistics do not). */
  params: number;
  macs: number;
  outputShape: ActivationShape;
}

/**
 * Costs per layer, analytically from the spec. MACs are multiply-accumulates of one
 * forward pass of one example: a conv's kh·kw·in per output element, a dense layer's
 * in·out, and one per output element of batch norm (at inference it is a per-channel
 * scale and shift, one multiply-add). Additions, ReLU and pooling perform no
 * multiplications and count zero, as in the published ResNet figures.
 */
export function layerCosts(spec: ModelSpec): LayerCost[] {
  const shapes = activationShapes(spec);
  const params = new Map<string, number>();
  for (const weight of weightSpecs(spec)) {
    if (!weight.trainable) continue;
    params.set(weight.layer, (params.get(weight.layer) ?? 0) + product(weight.shape));
  }
  return spec.layers.map((layer) => {
    const outputShape = shapes.get(layer.name)!;
    const outputs = product(outputShape);
    let macs = 0;
    if (layer.kind === 'conv') {
      const inChannels = shapes.get(layer.input)!.at(-1)!;
      macs = outputs * layer.kernel * layer.kernel * inChannels;
    } else if (layer.kind === 'dense') {
      macs = outputs * shapes.get(layer.input)![0]!;
    } else if (layer.kind === 'batchnorm') {
      macs = outputs;
    }
    return {
      name: layer.name,
      kind: layer.kind,
      params: params.get(layer.name) ?? 0,
      macs,
      outputShape,
    };
  });
}

/** Trainable parameters of the network a spec builds. */
export function countParams(spec: ModelSpec): number {
  return layerCosts(spec).reduce((sum, layer) => sum + layer.params, 0);
}

/** Forward MACs of one example (see layerCosts for what counts). */
export function countMacs(spec: ModelSpec): number {
  return layerCosts(spec).reduce((sum, layer) => sum + layer.macs, 0);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
