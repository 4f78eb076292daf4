import { tf } from '../tf.js';
import { type WasmKernelArgs, wasmKernel } from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * Tile by block copies: each axis, innermost first, is filled by doubling an already
 * written block with copyWithin (a memmove), so broadcasting a [1, 1, 1, C] tensor over a
 * batch of activations costs one memory pass. The stock kernel computes a source index
 * per element, which made it the slowest kernel of a ResNet training step (the batch-norm
 * gradient tiles 1/sqrt(variance)).
 */
function tile(args: WasmKernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = args.attrs as unknown as tf.TileAttrs;
  if (x.dtype === 'string') return runStockKernel(tf.Tile, args);
  const { backend } = args;
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  const inStrides = stridesOf(x.shape);
  const outStrides = stridesOf(outShape);
  // Writes x's block under `axis` at `from` into out at `to`, then repeats it reps[axis] times.
  const fill = (axis: number, from: number, to: number): void => {
    const extent = x.shape[axis]!;
    const inner = outStrides[axis]!;
    if (inner === inStrides[axis]) {
      // No axis below this one repeats: the block is laid out alike in x and out.
      target.set(source.subarray(from, from + extent * inner), to);
    } else {
      for (let i = 0; i < extent; i++) fill(axis + 1, from + i * inStrides[axis]!, to + i * inner);
    }
    const block = extent * inner;
    const total = block * reps[axis]!;
    for (let filled = block; filled < total; filled *= 2) {
      target.copyWithin(to + filled, to, to + Math.min(filled, total - filled));
    }
  };
  if (x.shape.length === 0) target.set(source);
  else fill(0, 0, 0);
  return out;
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

export const tileConfig = wasmKernel(tf.Tile, tile);
