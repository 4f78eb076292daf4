import { inputsOf, type LayerSpec, type ModelSpec } from '@prunefuse/models';

type Layer<K extends LayerSpec['kind']> = Extract<LayerSpec, { kind: K }>;

/**
 * One step of the compiled graph: a layer, or a batch norm or residual addition with the
 * ReLU that is its only reader folded in (forward and backward then run as one kernel
 * each, and the un-rectified tensor is never stored). `output` names the tensor the step
 * produces: the ReLU's name where one was folded in.
 */
export type GraphNode =
  | { kind: 'conv'; layer: Layer<'conv'>; input: string; output: string }
  | { kind: 'batchnorm'; layer: Layer<'batchnorm'>; input: string; output: string; relu: boolean }
  | { kind: 'relu'; input: string; output: string }
  | { kind: 'add'; inputs: string[]; output: string; relu: boolean }
  | { kind: 'maxpool'; layer: Layer<'maxpool'>; input: string; output: string }
  | { kind: 'globalAvgPool'; input: string; output: string }
  | { kind: 'dense'; layer: Layer<'dense'>; input: string; output: string };

/** The tensors a node reads. */
export function nodeInputs(node: GraphNode): readonly string[] {
  return node.kind === 'add' ? node.inputs : [node.input];
}

export function graphNodes(spec: ModelSpec): GraphNode[] {
  const readers = new Map<string, LayerSpec[]>();
  for (const layer of spec.layers) {
    for (const input of inputsOf(layer)) readers.set(input, [...(readers.get(input) ?? []), layer]);
  }
  const exposed = new Set([spec.features, spec.logits]);
  // The ReLU reading `name`, where it is the only reader and `name` is not an output.
  const soleRelu = (name: string) => {
    const list = readers.get(name) ?? [];
    const reader = list.length === 1 && !exposed.has(name) ? list[0]! : undefined;
    return reader?.kind === 'relu' ? reader : undefined;
  };
  const folded = new Set<string>();
  const nodes: GraphNode[] = [];
  for (const layer of spec.layers) {
    if (folded.has(layer.name)) continue;
    switch (layer.kind) {
      case 'batchnorm':
      case 'add': {
        const relu = soleRelu(layer.name);
        if (relu) folded.add(relu.name);
        const output = relu?.name ?? layer.name;
        nodes.push(
          layer.kind === 'batchnorm'
            ? { kind: 'batchnorm', layer, input: layer.input, output, relu: !!relu }
            : { kind: 'add', inputs: layer.inputs, output, relu: !!relu },
        );
        break;
      }
      case 'conv':
      case 'maxpool':
      case 'dense':
        nodes.push({
          kind: layer.kind,
          layer,
          input: layer.input,
          output: layer.name,
        } as GraphNode);
        break;
      case 'relu':
      case 'globalAvgPool':
        nodes.push({ kind: layer.kind, input: layer.input, output: layer.name });
        break;
    }
  }
  return nodes;
}

/**
 * Padding before the first row (or column) as TensorFlow computes it, which tfjs follows:
 * 'same' pads (out - 1)·stride + kernel - in in total, the smaller half before, so a
 * stride-2 'same' convolution of an even input pads one row after and none before.
 */
export function padBefore(
  size: number,
  out: number,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
): number {
  if (padding === 'valid') return 0;
  return Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2);
}
