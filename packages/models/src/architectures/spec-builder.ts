import { activationShapes } from '../shapes.js';
import type { InputShape, LayerSpec, ModelSpec } from '../spec.js';

/** PyTorch's BatchNorm2d defaults (momentum 0.1 there, 0.9 in this spec's convention). */
const BN_EPSILON = 1e-5;
const BN_MOMENTUM = 0.9;

/**
 * Appends layers in order and returns each layer's name, so that architecture code
 * reads like the forward pass it describes.
 */
export class SpecBuilder {
  private readonly layers: LayerSpec[] = [];

  conv(name: string, input: string, filters: number, kernel: number, stride = 1): string {
    return this.push({
      kind: 'conv',
      name,
      input,
      filters,
      kernel,
      stride,
      padding: 'same',
      bias: false,
    });
  }

  batchnorm(name: string, input: string): string {
    return this.push({
      kind: 'batchnorm',
      name,
      input,
      epsilon: BN_EPSILON,
      momentum: BN_MOMENTUM,
    });
  }

  relu(name: string, input: string): string {
    return this.push({ kind: 'relu', name, input });
  }

  add(name: string, inputs: string[]): string {
    return this.push({ kind: 'add', name, inputs });
  }

  globalAvgPool(name: string, input: string): string {
    return this.push({ kind: 'globalAvgPool', name, input });
  }

  dense(name: string, input: string, units: number): string {
    return this.push({ kind: 'dense', name, input, units, bias: true });
  }

  /** The finished spec, validated (so a wrong architecture fails where it is defined). */
  build(
    arch: string,
    input: InputShape,
    classes: number,
    features: string,
    logits: string,
  ): ModelSpec {
    const spec: ModelSpec = {
      arch,
      input: { ...input },
      classes,
      layers: [...this.layers],
      features,
      logits,
    };
    activationShapes(spec);
    return spec;
  }

  private push(layer: LayerSpec): string {
    this.layers.push(layer);
    return layer.name;
  }
}
