import { tf } from '../tf.js';
import type { ProgramUniform, WebgpuBackend, WebgpuProgram } from './program.js';

/** Output tile edge (rows of the filter gradient x output channels) and reduction step. */
const TILE = 16;
const STEP = 32;
/** Enough workgroups to fill a large GPU several times over. */
const TARGET_WORKGROUPS = 2048;

/**
 * The filter gradient as a GEMM: dW[r, co] = sum over m of A[m, r] * dy[m, co], where
 * m runs over (batch, output row, output column), r over (kernel row, kernel column,
 * input channel), and A gathers the input pixel each pair reads (im2col without
 * materialising it). The sum over m is long (batch x 32 x 32 = 131,072 for CIFAR) and
 * the output small (3x3x16x16), so tfjs's one-thread-per-weight kernel leaves the GPU
 * idle; here the sum is split into chunks, one workgroup per (16x16 output tile, chunk),
 * each staging its operands in workgroup memory, and a second pass adds the chunks.
 */
class FilterGradPartialProgram implements WebgpuProgram {
  variableNames = ['x', 'dy'];
  outputShape: number[];
  shaderKey = 'prunefuse_conv2dFilterGradPartial';
  dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [TILE, TILE, 1];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, filterWidth : i32, chunk : i32, steps : i32,';

  constructor(splits: number, rows: number, outChannels: number) {
    this.outputShape = [splits, rows * outChannels];
    this.dispatch = [Math.ceil(outChannels / TILE), Math.ceil(rows / TILE), splits];
  }

  getUserCode(): string {
    return `
      var<workgroup> tileA : array<array<f32, ${TILE}>, ${STEP}>;
      var<workgroup> tileB : array<array<f32, ${TILE}>, ${STEP}>;

      fn main() {
        let inChannels = uniforms.xShape.w;
        let outChannels = uniforms.dyShape.w;
        let outHeight = uniforms.dyShape.y;
        let outWidth = uniforms.dyShape.z;
        let rows = uniforms.outShape.y / outChannels;
        let total = uniforms.dyShape.x * outHeight * outWidth;
        let rowBase = i32(workgroupId.y) * ${TILE};
        let colBase = i32(workgroupId.x) * ${TILE};
        let start = i32(workgroupId.z) * uniforms.chunk;
        let end = min(start + uniforms.chunk, total);
        let lane = i32(localIndex);
        var acc = 0.0;
        for (var s = 0; s < uniforms.steps; s = s + 1) {
          let m0 = start + s * ${STEP};
          for (var i = lane; i < ${STEP * TILE}; i = i + ${TILE * TILE}) {
            let k = i / ${TILE};
            let j = i % ${TILE};
            let m = m0 + k;
            let r = rowBase + j;
            var a = 0.0;
            if (m < end && r < rows) {
              let ci = r % inChannels;
              let tap = r / inChannels;
              let ow = m % outWidth;
              let rest = m / outWidth;
              let ih = (rest % outHeight) * uniforms.strides.x + tap / uniforms.filterWidth - uniforms.pads.x;
              let iw = ow * uniforms.strides.y + tap % uniforms.filterWidth - uniforms.pads.y;
              if (ih >= 0 && ih < uniforms.xShape.y && iw >= 0 && iw < uniforms.xShape.z) {
                a = x[((rest / outHeight * uniforms.xShape.y + ih) * uniforms.xShape.z + iw) * inChannels + ci];
              }
            }
            tileA[k][j] = a;
            let c = colBase + j;
            var b = 0.0;
            if (m < end && c < outChannels) {
              b = dy[m * outChannels + c];
            }
            tileB[k][j] = b;
          }
          workgroupBarrier();
          let row = i32(localId.y);
          let col = i32(localId.x);
          for (var k = 0; k < ${STEP}; k = k + 1) {
            acc = acc + tileA[k][row] * tileB[k][col];
          }
          workgroupBarrier();
        }
        let r = rowBase + i32(localId.y);
        let c = colBase + i32(localId.x);
        if (r < rows && c < outChannels) {
          result[i32(workgroupId.z) * uniforms.outShape.y + r * outChannels + c] = acc;
        }
      }
    `;
  }
}

/** Adds the chunks' partial gradients: one thread per weight, reading down the chunks. */
class SumChunksProgram implements WebgpuProgram {
  variableNames = ['partial'];
  outputShape: number[];
  shaderKey = 'prunefuse_sumChunks';
  dispatchLayout = { x: [0, 1, 2, 3] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(filterShape: number[]) {
    this.outputShape = filterShape;
    const size = filterShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(size / 64), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var acc = 0.0;
          for (var s = 0; s < uniforms.partialShape.x; s = s + 1) {
            acc = acc + partial[s * uniforms.size + index];
          }
          setOutputAtIndex(index, acc);
        }
      }
    `;
  }
}

export function conv2dBackpropFilterWebgpu(
  args: tf.NamedAttrMap & {
    inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
    backend: WebgpuBackend;
  },
  stock: tf.KernelFunc,
): tf.TensorInfo {
  const { inputs, backend, attrs } = args as unknown as {
    inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
    backend: WebgpuBackend;
    attrs: {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
  };
  const { x, dy } = inputs;
  if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32') {
    return stock(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  const total = info.batchSize * info.outHeight * info.outWidth;
  const tiles = Math.ceil(rows / TILE) * Math.ceil(info.outChannels / TILE);
  const splits = Math.max(
    1,
    Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.ceil(total / (4 * STEP))),
  );
  const chunk = Math.ceil(total / splits / STEP) * STEP;
  const used = Math.ceil(total / chunk);
  const uniforms: ProgramUniform = [
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.filterWidth] },
    { type: 'int32', data: [chunk] },
    { type: 'int32', data: [chunk / STEP] },
  ];
  const partial = backend.runWebGPUProgram(
    new FilterGradPartialProgram(used, rows, info.outChannels),
    [x, dy],
    'float32',
    uniforms,
  );
  const result = backend.runWebGPUProgram(
    new SumChunksProgram(attrs.filterShape),
    [partial],
    'float32',
  );
  backend.disposeData(partial.dataId);
  return result;
}
