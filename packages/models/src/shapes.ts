import { INPUT, inputsOf, type LayerSpec, type ModelSpec } from './spec.js';

/** One example's activation shape: [height, width, channels] for images, [units] for vectors. */
export type ActivationShape = readonly number[];

/**
 * Checks that a spec is a well-formed graph and returns every layer's output shape by
 * name (`input` included). Errors name the layer and what is wrong with it, since
 * specs are also written by hand.
 */
export function activationShapes(spec: ModelSpec): Map<string, ActivationShape> {
  const { height, width, channels } = spec.input;
  for (const [what, value] of [
    ['height', height],
    ['width', width],
    ['channels', channels],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${spec.arch}: input ${what} must be a positive integer, got ${value}`);
    }
  }
  const shapes = new Map<string, ActivationShape>([[INPUT, [height, width, channels]]]);
  for (const layer of spec.layers) {
    const where = `${spec.arch}: layer '${layer.name}'`;
    if (layer.name.includes('/')) throw new Error(`${where}: names may not contain '/'`);
    if (shapes.has(layer.name)) throw new Error(`${where}: the name is used twice`);
    const inputs = inputsOf(layer).map((name) => {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`${where}: input '${name}' is not an earlier layer`);
      return shape;
    });
    shapes.set(layer.name, outputShape(layer, inputs, where));
  }
  for (const role of ['features', 'logits'] as const) {
    if (!shapes.has(spec[role]))
      throw new Error(`${spec.arch}: ${role} layer '${spec[role]}' does not exist`);
  }
  const logits = shapes.get(spec.logits)!;
  if (logits.length !== 1 || logits[0] !== spec.classes) {
    throw new Error(
      `${spec.arch}: logits layer '${spec.logits}' gives shape [${logits}], expected [${spec.classes}]`,
    );
  }
  return shapes;
}

function outputShape(layer: LayerSpec, inputs: ActivationShape[], where: string): ActivationShape {
  const input = inputs[0]!;
  const image = (): [number, number, number] => {
    if (input.length !== 3) throw new Error(`${where}: needs an image input, got shape [${input}]`);
    return input as [number, number, number];
  };
  switch (layer.kind) {
    case 'conv': {
      const [h, w] = image();
      return [...spatial(h, w, layer.kernel, layer.stride, layer.padding, where), layer.filters];
    }
    case 'maxpool': {
      const [h, w, c] = image();
      return [...spatial(h, w, layer.size, layer.stride, layer.padding, where), c];
    }
    case 'globalAvgPool':
      return [image()[2]];
    case 'dense':
      if (input.length !== 1) {
        throw new Error(
          `${where}: needs a vector input (add a globalAvgPool), got shape [${input}]`,
        );
      }
      return [layer.units];
    case 'add':
      if (inputs.length < 2) throw new Error(`${where}: needs at least two inputs`);
      for (const other of inputs) {
        if (other.join('x') !== input.join('x')) {
          throw new Error(
            `${where}: inputs ${layer.inputs.join(', ')} differ in shape: [${input}] vs [${other}]`,
          );
        }
      }
      return input;
    case 'batchnorm':
    case 'relu':
      return input;
  }
}

function spatial(
  height: number,
  width: number,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
  where: string,
): [number, number] {
  const side = (size: number) =>
    padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
  const out: [number, number] = [side(height), side(width)];
  if (out[0] < 1 || out[1] < 1) {
    throw new Error(
      `${where}: a ${height}x${width} input is too small for it (output ${out.join('x')})`,
    );
  }
  return out;
}
