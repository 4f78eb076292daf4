/**
 * An architecture as data. Layers form a DAG by name; the image enters as the
 * pseudo-layer `input`. Channel counts flow from `input.channels` through the graph,
 * so a spec fixes every weight shape without building anything. Layer names may not
 * contain '/', which separates a layer from its weight kind in weight names.
 */
export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

export type LayerSpec =
  | {
      kind: 'conv';
      name: string;
      input: string;
      filters: number;
      kernel: number;
      stride: number;
      padding: 'same' | 'valid';
      bias: boolean;
    }
  | {
      kind: 'batchnorm';
      name: string;
      input: string;
      epsilon: number;
      /**
       * Fraction of the old moving statistic kept at each training step (Keras convention:
       * 0.9 here equals PyTorch's momentum 0.1).
       */
      momentum: number;
    }
  | { kind: 'relu'; name: string; input: string }
  | { kind: 'add'; name: string; inputs: string[] }
  | {
      kind: 'maxpool';
      name: string;
      input: string;
      size: number;
      stride: number;
      padding: 'same' | 'valid';
    }
  | { kind: 'globalAvgPool'; name: string; input: string }
  | { kind: 'dense'; name: string; input: string; units: number; bias: boolean };

export type LayerKind = LayerSpec['kind'];

export interface ModelSpec {
  /** Architecture name, e.g. 'resnet20'. */
  arch: string;
  input: InputShape;
  classes: number;
  /** In topological order: every layer's inputs appear before it. */
  layers: LayerSpec[];
  /** The layer whose output is the penultimate feature vector (k-centres embeddings). */
  features: string;
  /** The layer whose output is the class logits. */
  logits: string;
}

/** The name of the pseudo-layer that stands for the image. */
export const INPUT = 'input';

/** The layers a layer reads from. */
export function inputsOf(layer: LayerSpec): readonly string[] {
  return layer.kind === 'add' ? layer.inputs : [layer.input];
}
