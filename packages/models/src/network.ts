import type { tf } from '@prunefuse/engine';
import type { ModelSpec } from './spec.js';

/**
 * Sees each layer's output as a forward pass computes it (inside the pass's tidy: keep
 * with tf.keep what must outlive it). Layers fused into one step report the step's output
 * under the last fused layer's name, e.g. a ReLU's output but not the batch norm's before it.
 */
export type LayerObserver = (layer: string, output: tf.Tensor) => void;

export interface ForwardOutput {
  logits: tf.Tensor2D;
  features: tf.Tensor2D;
}

/** A labelled batch a network trains or is scored on: [n, H, W, C] images, [n] int32 labels. */
export interface LabelledBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** Weights by name, `${layer}/${kind}` (kernel, bias, gamma, beta, movingMean, movingVariance). */
export type NamedWeights = Map<string, tf.Tensor>;

/**
 * A network built from a ModelSpec: its variables and a forward function. Trainable
 * variables are conv/dense kernels and biases and BN gamma/beta; BN moving statistics are
 * non-trainable variables.
 */
export interface Network {
  readonly spec: ModelSpec;
  /** Every variable by weight name. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
  /**
   * Forward pass. With `training: true` batch norm normalises with batch statistics and
   * updates its moving statistics in place (call it inside the optimizer's loss closure);
   * otherwise it uses the moving statistics and changes nothing.
   */
  apply(x: tf.Tensor4D, options: { training: boolean; observe?: LayerObserver }): ForwardOutput;
  /** Copies of every weight (caller disposes). */
  getWeights(): NamedWeights;
  /** Assigns weights by name; shapes must match; every variable must be given. */
  setWeights(weights: ReadonlyMap<string, tf.Tensor>): void;
  dispose(): void;
}
