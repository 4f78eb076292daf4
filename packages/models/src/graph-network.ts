import { tf } from '@prunefuse/engine';
import { addRelu } from './add-relu.js';
import { batchNormTraining } from './batch-norm-training.js';
import type { ForwardOutput, LayerObserver, NamedWeights, Network } from './network.js';
import { INPUT, inputsOf, type LayerSpec, type ModelSpec } from './spec.js';
import { weightSpecs } from './weights.js';

type ConvLayer = Extract<LayerSpec, { kind: 'conv' }>;
type BatchNormLayer = Extract<LayerSpec, { kind: 'batchnorm' }>;
type AddLayer = Extract<LayerSpec, { kind: 'add' }>;

/**
 * In inference, a conv read only by a batch norm (itself perhaps read only by a ReLU)
 * runs as one fused conv with the normalisation folded into its kernel and bias: one
 * kernel launch and one pass over the activations instead of three. In training, a batch
 * norm read only by a ReLU runs as one op, and in both modes so does a residual addition
 * read only by a ReLU: fused kernels (webgpu) apply the ReLU without launches of its own,
 * forward or backward.
 */
type Step =
  | { kind: 'layer'; layer: LayerSpec }
  | { kind: 'conv-bn'; conv: ConvLayer; bn: BatchNormLayer; relu: boolean; output: string }
  | { kind: 'bn-relu'; bn: BatchNormLayer; output: string }
  | { kind: 'add-relu'; add: AddLayer; output: string };

/**
 * Steps in order, and for each step the outputs nothing later reads: they are freed
 * right away, which bounds peak memory by the live activations rather than all of them
 * (the gradient tape keeps its own references to what backprop needs).
 */
interface Plan {
  steps: Step[];
  releaseAfter: string[][];
}

/**
 * A network from a spec and its weights. The network takes its own reference to each
 * tensor given (no copy); the caller may dispose its tensors afterwards.
 */
export function networkFromWeights(
  spec: ModelSpec,
  weights: ReadonlyMap<string, tf.Tensor>,
): Network {
  return new GraphNetwork(spec, weights);
}

class GraphNetwork implements Network {
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly trainable: tf.Variable[];
  private readonly trainingPlan: Plan;
  private readonly inferencePlan: Plan;
  /**
   * Folded conv weights by conv name, with the data each was folded from. Inference reuses
   * them until a source variable is assigned (training, setWeights, fusion), which gives
   * it new data: per call that saves the folding's half-dozen small kernels per conv,
   * which on a GPU cost more in launch overhead than the convolutions themselves.
   */
  /** Scalars the training-mode batch norm uses, kept for the network's life (see Constant). */
  private readonly constants = new Map<number, tf.Scalar>();
  private readonly folded = new Map<
    string,
    { sources: tf.DataId[]; filter: tf.Tensor4D; bias: tf.Tensor }
  >();

  constructor(
    readonly spec: ModelSpec,
    weights: ReadonlyMap<string, tf.Tensor>,
  ) {
    const layout = weightSpecs(spec);
    checkWeights(spec.arch, layout, weights);
    const variables = new Map<string, tf.Variable>();
    for (const weight of layout) {
      variables.set(weight.name, tf.variable(weights.get(weight.name)!, weight.trainable));
    }
    this.variables = variables;
    this.trainable = layout.filter((w) => w.trainable).map((w) => variables.get(w.name)!);
    this.trainingPlan = plan(spec, trainingSteps(spec));
    this.inferencePlan = plan(spec, inferenceSteps(spec));
  }

  trainableVariables(): tf.Variable[] {
    return [...this.trainable];
  }

  apply(x: tf.Tensor4D, options: { training: boolean; observe?: LayerObserver }): ForwardOutput {
    const { height, width, channels } = this.spec.input;
    const [, h, w, c] = x.shape;
    if (x.rank !== 4 || h !== height || w !== width || c !== channels) {
      throw new Error(
        `${this.spec.arch} expects inputs of shape [batch, ${height}, ${width}, ${channels}], got [${x.shape}]`,
      );
    }
    const { steps, releaseAfter } = options.training ? this.trainingPlan : this.inferencePlan;
    return tf.tidy(() => {
      const outputs = new Map<string, tf.Tensor>([[INPUT, x]]);
      steps.forEach((step, i) => {
        if (step.kind === 'layer') {
          outputs.set(step.layer.name, this.layer(step.layer, outputs, options.training));
        } else if (step.kind === 'add-relu') {
          outputs.set(step.output, addRelu(step.add.inputs.map((name) => outputs.get(name)!)));
        } else if (step.kind === 'bn-relu') {
          outputs.set(
            step.output,
            this.trainingBatchNorm(step.bn, outputs.get(step.bn.input)!, true),
          );
        } else {
          outputs.set(
            step.output,
            this.foldedConv(step, outputs.get(step.conv.input)! as tf.Tensor4D),
          );
        }
        if (options.observe) {
          const name = stepOutput(step);
          options.observe(name, outputs.get(name)!);
        }
        for (const name of releaseAfter[i]!) outputs.get(name)!.dispose();
      });
      return {
        logits: outputs.get(this.spec.logits)! as tf.Tensor2D,
        features: outputs.get(this.spec.features)! as tf.Tensor2D,
      };
    });
  }

  getWeights(): NamedWeights {
    return new Map([...this.variables].map(([name, variable]) => [name, tf.clone(variable)]));
  }

  setWeights(weights: ReadonlyMap<string, tf.Tensor>): void {
    checkWeights(this.spec.arch, weightSpecs(this.spec), weights);
    for (const [name, variable] of this.variables) variable.assign(weights.get(name)!);
  }

  dispose(): void {
    for (const { filter, bias } of this.folded.values()) tf.dispose([filter, bias]);
    this.folded.clear();
    tf.dispose([...this.constants.values()]);
    this.constants.clear();
    for (const variable of this.variables.values()) variable.dispose();
  }

  private weight(layer: string, kind: string): tf.Variable {
    return this.variables.get(`${layer}/${kind}`)!;
  }

  private layer(
    layer: LayerSpec,
    outputs: ReadonlyMap<string, tf.Tensor>,
    training: boolean,
  ): tf.Tensor {
    const inputs = inputsOf(layer).map((name) => outputs.get(name)!);
    const x = inputs[0]!;
    switch (layer.kind) {
      case 'conv': {
        const y = tf.conv2d(
          x as tf.Tensor4D,
          this.weight(layer.name, 'kernel') as tf.Tensor4D,
          layer.stride,
          layer.padding,
        );
        return layer.bias ? tf.add(y, this.weight(layer.name, 'bias')) : y;
      }
      case 'batchnorm':
        return training ? this.trainingBatchNorm(layer, x) : this.inferenceBatchNorm(layer, x);
      case 'relu':
        return tf.relu(x);
      case 'add':
        return tf.addN(inputs);
      case 'maxpool':
        return tf.maxPool(x as tf.Tensor4D, layer.size, layer.stride, layer.padding);
      case 'globalAvgPool':
        return tf.mean(x, [1, 2]);
      case 'dense':
        return tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: this.weight(layer.name, 'kernel') as tf.Tensor2D,
          ...(layer.bias ? { bias: this.weight(layer.name, 'bias') } : {}),
        });
    }
  }

  private inferenceBatchNorm(layer: BatchNormLayer, x: tf.Tensor): tf.Tensor {
    const w = (kind: string) => this.weight(layer.name, kind) as tf.Tensor1D;
    return tf.batchNorm(
      x,
      w('movingMean'),
      w('movingVariance'),
      w('beta'),
      w('gamma'),
      layer.epsilon,
    );
  }

  /** Normalises with the batch's statistics and moves the moving statistics towards them. */
  private trainingBatchNorm(layer: BatchNormLayer, x: tf.Tensor, relu = false): tf.Tensor {
    const w = (kind: string) => this.weight(layer.name, kind);
    return batchNormTraining(
      x,
      w('gamma') as tf.Tensor1D,
      w('beta') as tf.Tensor1D,
      layer.epsilon,
      { mean: w('movingMean'), variance: w('movingVariance'), keep: layer.momentum },
      (value) => this.constant(value),
      relu,
    );
  }

  private constant(value: number): tf.Scalar {
    let scalar = this.constants.get(value);
    if (!scalar) {
      scalar = tf.keep(tf.scalar(value));
      this.constants.set(value, scalar);
    }
    return scalar;
  }

  private foldedConv(step: Extract<Step, { kind: 'conv-bn' }>, x: tf.Tensor4D): tf.Tensor {
    const { filter, bias } = this.foldedWeights(step);
    return tf.fused.conv2d({
      x,
      filter,
      strides: step.conv.stride,
      pad: step.conv.padding,
      bias,
      activation: step.relu ? 'relu' : 'linear',
    });
  }

  private foldedWeights(step: Extract<Step, { kind: 'conv-bn' }>): {
    filter: tf.Tensor4D;
    bias: tf.Tensor;
  } {
    const bn = (kind: string) => this.weight(step.bn.name, kind);
    const kernel = this.weight(step.conv.name, 'kernel');
    const convBias = step.conv.bias ? this.weight(step.conv.name, 'bias') : null;
    const variables = [kernel, bn('gamma'), bn('beta'), bn('movingMean'), bn('movingVariance')];
    if (convBias) variables.push(convBias);
    const sources = variables.map((v) => v.dataId);
    const cached = this.folded.get(step.conv.name);
    if (cached?.sources.every((id, i) => id === sources[i])) return cached;
    if (cached) tf.dispose([cached.filter, cached.bias]);
    const folded = tf.tidy(() => {
      const scale = tf.mul(bn('gamma'), tf.rsqrt(tf.add(bn('movingVariance'), step.bn.epsilon)));
      const centred = convBias ? tf.sub(convBias, bn('movingMean')) : tf.neg(bn('movingMean'));
      return {
        filter: tf.keep(tf.mul(kernel, scale)) as tf.Tensor4D,
        bias: tf.keep(tf.add(bn('beta'), tf.mul(centred, scale))),
      };
    });
    this.folded.set(step.conv.name, { sources, ...folded });
    return folded;
  }
}

function plan(spec: ModelSpec, steps: Step[]): Plan {
  const kept = new Set([INPUT, spec.features, spec.logits]);
  const lastRead = new Map<string, number>();
  steps.forEach((step, i) => {
    for (const name of inputsOf(stepLayer(step))) lastRead.set(name, i);
  });
  const releaseAfter = steps.map((): string[] => []);
  for (const [name, i] of lastRead) if (!kept.has(name)) releaseAfter[i]!.push(name);
  return { steps, releaseAfter };
}

/** The layer whose inputs a step reads. */
function stepLayer(step: Step): LayerSpec {
  switch (step.kind) {
    case 'layer':
      return step.layer;
    case 'conv-bn':
      return step.conv;
    case 'bn-relu':
      return step.bn;
    case 'add-relu':
      return step.add;
  }
}

/** The name a step's output goes by. */
function stepOutput(step: Step): string {
  return step.kind === 'layer' ? step.layer.name : step.output;
}

/**
 * The one layer that reads `name`, if exactly one does and the caller does not read it
 * (outputs the caller reads must be computed as themselves, not fused away).
 */
function soleReaders(spec: ModelSpec): (name: string) => LayerSpec | undefined {
  const readers = new Map<string, LayerSpec[]>();
  for (const layer of spec.layers) {
    for (const input of inputsOf(layer)) readers.set(input, [...(readers.get(input) ?? []), layer]);
  }
  const exposed = new Set([spec.features, spec.logits]);
  return (name) => {
    const list = readers.get(name) ?? [];
    return list.length === 1 && !exposed.has(name) ? list[0]! : undefined;
  };
}

function trainingSteps(spec: ModelSpec): Step[] {
  const soleReader = soleReaders(spec);
  const fused = new Set<string>();
  const steps: Step[] = [];
  for (const layer of spec.layers) {
    if (fused.has(layer.name)) continue;
    const relu = soleReader(layer.name);
    if (relu?.kind !== 'relu' || (layer.kind !== 'batchnorm' && layer.kind !== 'add')) {
      steps.push({ kind: 'layer', layer });
      continue;
    }
    fused.add(relu.name);
    steps.push(
      layer.kind === 'batchnorm'
        ? { kind: 'bn-relu', bn: layer, output: relu.name }
        : { kind: 'add-relu', add: layer, output: relu.name },
    );
  }
  return steps;
}

function inferenceSteps(spec: ModelSpec): Step[] {
  const soleReader = soleReaders(spec);
  const folded = new Set<string>();
  const steps: Step[] = [];
  for (const layer of spec.layers) {
    if (folded.has(layer.name)) continue;
    const reader = soleReader(layer.name);
    if (layer.kind === 'add' && reader?.kind === 'relu') {
      folded.add(reader.name);
      steps.push({ kind: 'add-relu', add: layer, output: reader.name });
      continue;
    }
    const bn = layer.kind === 'conv' ? reader : undefined;
    if (layer.kind !== 'conv' || bn?.kind !== 'batchnorm') {
      steps.push({ kind: 'layer', layer });
      continue;
    }
    const relu = soleReader(bn.name);
    const withRelu = relu?.kind === 'relu';
    folded.add(bn.name);
    if (withRelu) folded.add(relu.name);
    steps.push({
      kind: 'conv-bn',
      conv: layer,
      bn,
      relu: withRelu,
      output: withRelu ? relu.name : bn.name,
    });
  }
  return steps;
}

function checkWeights(
  arch: string,
  layout: ReturnType<typeof weightSpecs>,
  weights: ReadonlyMap<string, tf.Tensor>,
): void {
  const expected = new Set(layout.map((w) => w.name));
  const unknown = [...weights.keys()].filter((name) => !expected.has(name));
  if (unknown.length > 0) throw new Error(`${arch}: unknown weights ${unknown.join(', ')}`);
  for (const weight of layout) {
    const tensor = weights.get(weight.name);
    if (!tensor) throw new Error(`${arch}: weight '${weight.name}' is missing`);
    if (tensor.shape.join('x') !== weight.shape.join('x') || tensor.dtype !== 'float32') {
      throw new Error(
        `${arch}: weight '${weight.name}' must be float32 [${weight.shape}], got ${tensor.dtype} [${tensor.shape}]`,
      );
    }
  }
}
