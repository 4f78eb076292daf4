import { inputsOf, type LayerSpec, type ModelSpec } from '@prunefuse/models';

type Layer<K extends LayerSpec['kind']> = Extract<LayerSpec, { kind: K }>;

/**
 * One step of the compiled graph: a layer, or a batch norm or residual addition with the
 * ReLU that is its only reader folded in (forward and backward then run as one kernel
 * each, and the un-rectified tensor is never stored). `output` names the tensor the step
 * produces: the ReLU's name where one was folded in.
 */
export type GraphNode =
  | { kind: 'conv'; layer: Layer<'conv'>; input: string; output: string; epilogue?: ConvEpilogue }
  | { kind: 'batchnorm'; layer: Layer<'batchnorm'>; input: string; output: string; relu: boolean }
  | { kind: 'relu'; input: string; output: string }
  | { kind: 'add'; inputs: string[]; output: string; relu: boolean }
  | { kind: 'maxpool'; layer: Layer<'maxpool'>; input: string; output: string }
  | { kind: 'globalAvgPool'; input: string; output: string }
  | { kind: 'dense'; layer: Layer<'dense'>; input: string; output: string };

/**
 * What an inference plan applies to a convolution's output before storing it, in this
 * order: a batch norm with its moving statistics (a per-channel affine map), the addition
 * of a residual tensor, a ReLU. `output` then names the last folded tensor.
 */
export interface ConvEpilogue {
  batchnorm: Layer<'batchnorm'> | null;
  residual: string | null;
  relu: boolean;
}

/** The tensors a node reads. */
export function nodeInputs(node: GraphNode): readonly string[] {
  if (node.kind === 'add') return node.inputs;
  if (node.kind === 'conv' && node.epilogue?.residual) return [node.input, node.epilogue.residual];
  return [node.input];
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
 * The graph of an inference plan: `graphNodes` with each batch norm, residual addition
 * and ReLU that follows a convolution folded into the convolution's store (ConvEpilogue),
 * so that none of those tensors is written and read back. Training cannot fold them: batch
 * statistics need the whole conv output before any of it is normalised, and backward
 * reads the intermediate tensors. A fold needs the folded tensor to have one reader and
 * not be an exposed output. An addition folds into the input computed last, so that its
 * other input (the shortcut) exists when that convolution runs.
 */
export function inferenceNodes(spec: ModelSpec): GraphNode[] {
  const nodes = graphNodes(spec);
  const readers = new Map<string, number>();
  for (const node of nodes) {
    for (const input of nodeInputs(node)) readers.set(input, (readers.get(input) ?? 0) + 1);
  }
  const exposed = new Set([spec.features, spec.logits]);
  const foldable = (name: string) => readers.get(name) === 1 && !exposed.has(name);
  const folded: GraphNode[] = [];
  /** Index in `folded` of the node producing each tensor. */
  const producer = new Map<string, number>();
  // The conv at `index`, where its output may take a further fold.
  const convAt = (index: number | undefined) => {
    const node = index === undefined ? undefined : folded[index];
    return node?.kind === 'conv' && foldable(node.output) ? node : undefined;
  };
  const replace = (index: number, node: GraphNode) => {
    producer.delete(folded[index]!.output);
    producer.set(node.output, index);
    folded[index] = node;
  };
  for (const node of nodes) {
    if (node.kind === 'batchnorm') {
      const index = producer.get(node.input);
      const conv = convAt(index);
      if (conv && !conv.epilogue) {
        replace(index!, {
          ...conv,
          output: node.output,
          epilogue: { batchnorm: node.layer, residual: null, relu: node.relu },
        });
        continue;
      }
    }
    if (node.kind === 'add' && node.inputs.length === 2 && node.inputs[0] !== node.inputs[1]) {
      const order = node.inputs.map((name) => producer.get(name) ?? -1);
      const last = order[0]! > order[1]! ? 0 : 1;
      const index = order[last]!;
      const conv = index < 0 ? undefined : convAt(index);
      if (conv && !conv.epilogue?.residual && !conv.epilogue?.relu) {
        replace(index, {
          ...conv,
          output: node.output,
          epilogue: {
            batchnorm: conv.epilogue?.batchnorm ?? null,
            residual: node.inputs[1 - last]!,
            relu: node.relu,
          },
        });
        continue;
      }
    }
    producer.set(node.output, folded.length);
    folded.push(node);
  }
  return folded;
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
