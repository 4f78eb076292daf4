import { type ModelSpec, type WeightSpec, weightSpecs } from '@prunefuse/models';
import type { BufferRef } from './wgsl.js';

/**
 * Floats per 256 bytes: WebGPU binds storage ranges at offsets that are multiples of
 * minStorageBufferOffsetAlignment (256 on every adapter we target), so each range starts
 * on such a boundary.
 */
const ALIGN = 64;
const aligned = (floats: number) => Math.ceil(floats / ALIGN) * ALIGN;

export interface ArenaWeight {
  spec: WeightSpec;
  /** Float offset of the value in the arena. */
  offset: number;
  length: number;
}

/**
 * Where every weight lives in the one parameter arena: the trainable values first, then
 * the batch-norm moving statistics, then one gradient and one momentum slot per trainable
 * float, at the same offsets shifted by `gradients` and `momentum`. A batch norm's gamma
 * and beta are adjacent (one binding, [gamma | beta]), as are its moving mean and variance,
 * which keeps every kernel within WebGPU's eight storage bindings.
 */
export class ArenaLayout {
  readonly weights = new Map<string, ArenaWeight>();
  /** Floats of trainable values (aligned); gradients and momentum have as many. */
  readonly trainable: number;
  readonly gradients: number;
  readonly momentum: number;
  readonly size: number;

  constructor(readonly spec: ModelSpec) {
    const specs = weightSpecs(spec);
    let offset = 0;
    const place = (weights: WeightSpec[]) => {
      for (const weight of weights) {
        const length = weight.shape.reduce((a, b) => a * b, 1);
        // Gamma/beta and mean/variance pairs share one aligned range.
        const pairedWithPrevious = weight.kind === 'beta' || weight.kind === 'movingVariance';
        if (!pairedWithPrevious) offset = aligned(offset);
        this.weights.set(weight.name, { spec: weight, offset, length });
        offset += length;
      }
      offset = aligned(offset);
    };
    place(specs.filter((w) => w.trainable));
    this.trainable = offset;
    place(specs.filter((w) => !w.trainable));
    this.gradients = offset;
    this.momentum = offset + this.trainable;
    this.size = offset + 2 * this.trainable;
  }

  weight(layer: string, kind: WeightSpec['kind']): ArenaWeight {
    const weight = this.weights.get(`${layer}/${kind}`);
    if (!weight) throw new Error(`${this.spec.arch}: no weight '${layer}/${kind}' in the arena`);
    return weight;
  }

  /** The value of a weight; with `pair`, the batch-norm pair it starts ([gamma|beta], [mean|variance]). */
  value(layer: string, kind: WeightSpec['kind'], pair = false): BufferRef {
    const w = this.weight(layer, kind);
    return { kind: 'arena', offset: w.offset, length: pair ? 2 * w.length : w.length };
  }

  gradient(layer: string, kind: WeightSpec['kind'], pair = false): BufferRef {
    const w = this.weight(layer, kind);
    return {
      kind: 'arena',
      offset: this.gradients + w.offset,
      length: pair ? 2 * w.length : w.length,
    };
  }
}
