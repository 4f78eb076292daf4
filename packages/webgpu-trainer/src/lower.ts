import { type ActivationShape, activationShapes, INPUT, type ModelSpec } from '@prunefuse/models';
import type { ArenaLayout } from './arena.js';
import { type GraphNode, graphNodes, inferenceNodes, nodeInputs, padBefore } from './graph.js';
import {
  type BatchNormShape,
  batchNormApply,
  batchNormInference,
  batchNormInputGradient,
  batchNormParameterGradients,
  batchNormStatistics,
  partialSumsSize,
} from './kernels/batch-norm.js';
import {
  type ConvGeometry,
  convFilterGradient,
  convForward,
  convInputGradient,
} from './kernels/conv.js';
import {
  type DenseShape,
  denseForward,
  denseInputGradient,
  denseKernelGradient,
} from './kernels/dense.js';
import {
  addBackward,
  addForward,
  columnSums,
  globalAvgPoolBackward,
  globalAvgPoolForward,
  maxPoolBackward,
  maxPoolForward,
  type PoolGeometry,
  reluBackward,
  reluForward,
  softmaxRows,
} from './kernels/elementwise.js';
import { type LossSpec, lossAndGradient } from './kernels/loss.js';
import { type SgdSettings, sgdUpdate } from './kernels/sgd.js';
import type { BufferRef, Dispatch, IoBuffer } from './wgsl.js';

/**
 * A plan before it touches the GPU: the dispatches in order and the size of every plan
 * tensor they bind (activations, gradients, statistics, scratch), which memory.ts places
 * by liveness.
 */
export class DispatchList {
  readonly dispatches: Dispatch[] = [];
  /** Floats per plan tensor, by id. */
  readonly tensorSizes: number[] = [];
  /**
   * Activations kept alive to the plan's end (tensor id by layer name), so that they can be
   * read after it ran: the compiled step's own ReLU decisions, which verify hands to the
   * float64 reference.
   */
  readonly kept = new Map<string, number>();

  tensor(floats: number): BufferRef {
    this.tensorSizes.push(Math.max(floats, 1));
    return { kind: 'tensor', id: this.tensorSizes.length - 1 };
  }

  push(...dispatches: Dispatch[]): void {
    this.dispatches.push(...dispatches);
  }
}

const io = (name: IoBuffer): BufferRef => ({ kind: 'io', name });
const sizeOf = (shape: ActivationShape) => shape.reduce((a, b) => a * b, 1);

interface Saved {
  /** A batch norm's [mean | inverse std]. */
  stats?: BufferRef;
  /** A max pool's argmax indices. */
  argmax?: BufferRef;
}

/** A conv node's shapes at one batch size, as its kernels take them. */
export function convGeometry(
  node: Extract<GraphNode, { kind: 'conv' }>,
  shapes: ReadonlyMap<string, ActivationShape>,
  batch: number,
): ConvGeometry {
  const [height, width, inChannels] = shapes.get(node.input) as [number, number, number];
  const [outHeight, outWidth, outChannels] = shapes.get(node.output) as [number, number, number];
  const { kernel, stride, padding } = node.layer;
  return {
    batch,
    height,
    width,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    kernel,
    stride,
    padTop: padBefore(height, outHeight, kernel, stride, padding),
    padLeft: padBefore(width, outWidth, kernel, stride, padding),
  };
}

/** A batch-norm node's rows (batch x pixels) and channels at one batch size. */
export function batchNormShape(
  node: Extract<GraphNode, { kind: 'batchnorm' }>,
  shapes: ReadonlyMap<string, ActivationShape>,
  batch: number,
): BatchNormShape {
  const shape = shapes.get(node.input)!;
  const channels = shape[shape.length - 1]!;
  return {
    rows: (batch * sizeOf(shape)) / channels,
    channels,
    epsilon: node.layer.epsilon,
  };
}

/** Lowers a spec at one batch size to dispatches, forward and (for training) backward. */
class Lowering {
  readonly list = new DispatchList();
  readonly nodes: GraphNode[];
  private readonly shapes: Map<string, ActivationShape>;
  private readonly values = new Map<string, BufferRef>();
  private readonly saved = new Map<GraphNode, Saved>();

  constructor(
    readonly spec: ModelSpec,
    readonly arena: ArenaLayout,
    readonly batch: number,
    private readonly training: boolean,
    foldEpilogues = !training,
  ) {
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`batch must be a positive integer, got ${batch}`);
    }
    this.shapes = activationShapes(spec);
    this.nodes = foldEpilogues ? inferenceNodes(spec) : graphNodes(spec);
    this.values.set(INPUT, io('images'));
  }

  forward(
    outputs: Partial<Record<'logits' | 'features', BufferRef>> = {},
    keep: ReadonlySet<string> = new Set(),
  ): void {
    const pinned = new Map<string, BufferRef>();
    if (outputs.logits) pinned.set(this.spec.logits, outputs.logits);
    if (outputs.features) pinned.set(this.spec.features, outputs.features);
    for (const node of this.nodes) {
      const out = pinned.get(node.output) ?? this.list.tensor(this.size(node.output));
      if (keep.has(node.output) && out.kind === 'tensor') this.list.kept.set(node.output, out.id);
      this.values.set(node.output, out);
      this.list.push(...this.forwardNode(node, out));
    }
  }

  value(name: string): BufferRef {
    return this.values.get(name)!;
  }

  /** Back-propagates from dLogits, writing every trainable weight's gradient to the arena. */
  backward(dLogits: BufferRef): void {
    const gradients = new Map<string, { ref: BufferRef; written: boolean }>();
    gradients.set(this.spec.logits, { ref: dLogits, written: true });
    // The gradient buffer of `name`, and whether this contribution adds to earlier ones.
    const into = (name: string) => {
      let gradient = gradients.get(name);
      if (!gradient) {
        gradient = { ref: this.list.tensor(this.size(name)), written: false };
        gradients.set(name, gradient);
      }
      const accumulate = gradient.written;
      gradient.written = true;
      return { dx: gradient.ref, accumulate };
    };
    for (const node of [...this.nodes].reverse()) {
      const dy = gradients.get(node.output);
      if (!dy) continue;
      this.list.push(...this.backwardNode(node, dy.ref, into));
    }
  }

  private size(name: string): number {
    return this.batch * sizeOf(this.shapes.get(name)!);
  }

  private shape(name: string): ActivationShape {
    return this.shapes.get(name)!;
  }

  private convGeometry(node: Extract<GraphNode, { kind: 'conv' }>): ConvGeometry {
    return convGeometry(node, this.shapes, this.batch);
  }

  private poolGeometry(node: Extract<GraphNode, { kind: 'maxpool' }>): PoolGeometry {
    const [height, width, channels] = this.shape(node.input) as [number, number, number];
    const [outHeight, outWidth] = this.shape(node.output) as [number, number];
    const { size, stride, padding } = node.layer;
    return {
      batch: this.batch,
      height,
      width,
      channels,
      outHeight,
      outWidth,
      size,
      stride,
      padTop: padBefore(height, outHeight, size, stride, padding),
      padLeft: padBefore(width, outWidth, size, stride, padding),
    };
  }

  private bnShape(node: Extract<GraphNode, { kind: 'batchnorm' }>): BatchNormShape {
    return batchNormShape(node, this.shapes, this.batch);
  }

  private denseShape(node: Extract<GraphNode, { kind: 'dense' }>): DenseShape {
    return { batch: this.batch, inputs: sizeOf(this.shape(node.input)), units: node.layer.units };
  }

  private forwardNode(node: GraphNode, y: BufferRef): Dispatch[] {
    const label = `${node.output}:forward`;
    const x = this.values.get(nodeInputs(node)[0]!)!;
    const arena = this.arena;
    switch (node.kind) {
      case 'conv': {
        const { layer, epilogue } = node;
        const batchnorm = epilogue?.batchnorm;
        return [
          convForward({
            label,
            geometry: this.convGeometry(node),
            x,
            kernel: arena.value(layer.name, 'kernel'),
            bias: layer.bias ? arena.value(layer.name, 'bias') : null,
            y,
            ...(epilogue && {
              epilogue: {
                batchnorm: batchnorm
                  ? {
                      gammaBeta: arena.value(batchnorm.name, 'gamma', true),
                      moving: arena.value(batchnorm.name, 'movingMean', true),
                      epsilon: batchnorm.epsilon,
                    }
                  : null,
                residual: epilogue.residual ? this.values.get(epilogue.residual)! : null,
                relu: epilogue.relu,
              },
            }),
          }),
        ];
      }
      case 'batchnorm': {
        const shape = this.bnShape(node);
        const gammaBeta = arena.value(node.layer.name, 'gamma', true);
        const moving = arena.value(node.layer.name, 'movingMean', true);
        if (!this.training) {
          return [batchNormInference({ label, shape, relu: node.relu, x, gammaBeta, moving, y })];
        }
        const stats = this.list.tensor(2 * shape.channels);
        this.saved.set(node, { stats });
        return [
          ...batchNormStatistics({
            label: `${node.output}:statistics`,
            shape,
            keep: node.layer.momentum,
            x,
            partials: this.list.tensor(partialSumsSize(shape)),
            stats,
            moving,
          }),
          batchNormApply({ label, shape, relu: node.relu, x, stats, gammaBeta, y }),
        ];
      }
      case 'relu':
        return [reluForward(label, this.size(node.output), x, y)];
      case 'add':
        return [
          addForward({
            label,
            count: this.size(node.output),
            inputs: node.inputs.map((name) => this.values.get(name)!),
            y,
            relu: node.relu,
          }),
        ];
      case 'maxpool': {
        const argmax = this.training ? this.list.tensor(this.size(node.output)) : null;
        if (argmax) this.saved.set(node, { argmax });
        return [maxPoolForward({ label, geometry: this.poolGeometry(node), x, y, argmax })];
      }
      case 'globalAvgPool': {
        const [height, width, channels] = this.shape(node.input) as [number, number, number];
        return [
          globalAvgPoolForward({
            label,
            batch: this.batch,
            pixels: height * width,
            channels,
            x,
            y,
          }),
        ];
      }
      case 'dense': {
        const { layer } = node;
        return [
          denseForward({
            label,
            shape: this.denseShape(node),
            x,
            kernel: arena.value(layer.name, 'kernel'),
            bias: layer.bias ? arena.value(layer.name, 'bias') : null,
            y,
          }),
        ];
      }
    }
  }

  private backwardNode(
    node: GraphNode,
    dy: BufferRef,
    into: (name: string) => { dx: BufferRef; accumulate: boolean },
  ): Dispatch[] {
    const label = `${node.output}:backward`;
    const input = nodeInputs(node)[0]!;
    const x = this.values.get(input)!;
    const needsInput = input !== INPUT;
    const arena = this.arena;
    const out: Dispatch[] = [];
    switch (node.kind) {
      case 'conv': {
        const geometry = this.convGeometry(node);
        const { layer } = node;
        out.push(
          ...convFilterGradient({
            label: `${layer.name}:filter-gradient`,
            geometry,
            x,
            dy,
            dw: arena.gradient(layer.name, 'kernel'),
            scratch: (floats) => this.list.tensor(floats),
          }),
        );
        if (layer.bias) {
          out.push(
            columnSums({
              label: `${layer.name}:bias-gradient`,
              rows: this.size(node.output) / layer.filters,
              columns: layer.filters,
              x: dy,
              out: arena.gradient(layer.name, 'bias'),
            }),
          );
        }
        if (needsInput) {
          out.push(
            ...convInputGradient({
              label: `${layer.name}:input-gradient`,
              geometry,
              dy,
              kernel: arena.value(layer.name, 'kernel'),
              ...into(input),
            }),
          );
        }
        return out;
      }
      case 'batchnorm': {
        const shape = this.bnShape(node);
        const common = {
          shape,
          relu: node.relu,
          x,
          dy,
          stats: this.saved.get(node)!.stats!,
          gammaBeta: arena.value(node.layer.name, 'gamma', true),
          dGammaBeta: arena.gradient(node.layer.name, 'gamma', true),
        };
        out.push(
          ...batchNormParameterGradients({
            label: `${label}:parameters`,
            ...common,
            partials: this.list.tensor(partialSumsSize(shape)),
          }),
        );
        if (needsInput) out.push(batchNormInputGradient({ label, ...common, ...into(input) }));
        return out;
      }
      case 'relu':
        if (needsInput) {
          out.push(
            reluBackward({
              label,
              count: this.size(node.output),
              y: this.values.get(node.output)!,
              dy,
              ...into(input),
            }),
          );
        }
        return out;
      case 'add': {
        const outputs = node.inputs.filter((name) => name !== INPUT).map((name) => into(name));
        if (outputs.length > 0) {
          out.push(
            addBackward({
              label,
              count: this.size(node.output),
              y: node.relu ? this.values.get(node.output)! : null,
              dy,
              outputs,
            }),
          );
        }
        return out;
      }
      case 'maxpool':
        if (needsInput) {
          out.push(
            maxPoolBackward({
              label,
              geometry: this.poolGeometry(node),
              argmax: this.saved.get(node)!.argmax!,
              dy,
              ...into(input),
            }),
          );
        }
        return out;
      case 'globalAvgPool': {
        const [height, width, channels] = this.shape(node.input) as [number, number, number];
        if (needsInput) {
          out.push(
            globalAvgPoolBackward({
              label,
              batch: this.batch,
              pixels: height * width,
              channels,
              dy,
              ...into(input),
            }),
          );
        }
        return out;
      }
      case 'dense': {
        const shape = this.denseShape(node);
        const { layer } = node;
        out.push(
          denseKernelGradient({
            label: `${layer.name}:kernel-gradient`,
            shape,
            x,
            dy,
            dw: arena.gradient(layer.name, 'kernel'),
          }),
        );
        if (layer.bias) {
          out.push(
            columnSums({
              label: `${layer.name}:bias-gradient`,
              rows: this.batch,
              columns: layer.units,
              x: dy,
              out: arena.gradient(layer.name, 'bias'),
            }),
          );
        }
        if (needsInput) {
          out.push(
            denseInputGradient({
              label: `${layer.name}:input-gradient`,
              shape,
              dy,
              kernel: arena.value(layer.name, 'kernel'),
              ...into(input),
            }),
          );
        }
        return out;
      }
    }
  }
}

/**
 * One training step at a batch size: forward with batch statistics (moving statistics
 * updated), the loss and its gradient (metrics accumulated), backward into the arena's
 * gradients, one SGD update over the whole trainable arena.
 */
export function lowerTrainingStep(options: {
  spec: ModelSpec;
  arena: ArenaLayout;
  batch: number;
  loss: LossSpec;
  sgd: SgdSettings;
  /** Layer outputs to keep readable after the step (see DispatchList.kept). */
  keep?: ReadonlySet<string>;
}): DispatchList {
  const { spec, arena, batch } = options;
  const lowering = new Lowering(spec, arena, batch, true);
  lowering.forward({}, options.keep);
  const { list } = lowering;
  const dLogits = list.tensor(batch * spec.classes);
  list.push(
    lossAndGradient({
      label: 'loss',
      loss: options.loss,
      batch,
      classes: spec.classes,
      logits: lowering.value(spec.logits),
      labels: io('labels'),
      teacher: options.loss.kind === 'distillation' ? io('teacher') : null,
      dLogits,
      metrics: io('metrics'),
    }),
  );
  lowering.backward(dLogits);
  list.push(
    sgdUpdate({
      label: 'sgd',
      count: arena.trainable,
      settings: options.sgd,
      params: { kind: 'arena', offset: 0, length: arena.trainable },
      gradients: { kind: 'arena', offset: arena.gradients, length: arena.trainable },
      momentum: { kind: 'arena', offset: arena.momentum, length: arena.trainable },
      hyper: io('hyper'),
    }),
  );
  return list;
}

/**
 * Inference at a batch size (batch norm with the moving statistics): logits and penultimate
 * features into the plan's output buffers, and softmax probabilities. Batch norms,
 * residual additions and ReLUs after a convolution run in its store (`inferenceNodes`)
 * unless `foldEpilogues` is false, which keeps one dispatch per graph node for comparison.
 */
export function lowerInference(options: {
  spec: ModelSpec;
  arena: ArenaLayout;
  batch: number;
  foldEpilogues?: boolean;
}): DispatchList {
  const { spec, arena, batch } = options;
  const lowering = new Lowering(spec, arena, batch, false, options.foldEpilogues ?? true);
  lowering.forward({ logits: io('logits'), features: io('features') });
  lowering.list.push(
    softmaxRows({
      label: 'softmax',
      rows: batch,
      classes: spec.classes,
      logits: io('logits'),
      probabilities: io('probabilities'),
    }),
  );
  return lowering.list;
}
