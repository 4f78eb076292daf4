import type { KernelHarness } from './kernel-harness.js';
import {
  type BatchNormShape,
  batchNormApply,
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
import type { GemmTile } from './kernels/gemm.js';
import type { ConvPass } from './kernels/tiles.js';
import type { DispatchList } from './lower.js';

/**
 * One kernel of a training step outside its model: a convolution pass, or a batch norm's
 * forward (statistics, then normalise) or backward (parameter gradients, then input
 * gradient), each as the trainer lowers it. Benchmarks, the tile tuner and the kernel
 * tests run these through a KernelHarness.
 */
export type KernelOp =
  | { kind: 'conv'; pass: ConvPass; geometry: ConvGeometry }
  | { kind: 'batchnorm'; pass: 'forward' | 'backward'; shape: BatchNormShape };

const convInput = (g: ConvGeometry) => g.batch * g.height * g.width * g.inChannels;
const convOutput = (g: ConvGeometry) => g.batch * g.outHeight * g.outWidth * g.outChannels;
const convKernel = (g: ConvGeometry) => g.kernel * g.kernel * g.inChannels * g.outChannels;

/** The operands of an op by name, in floats: its inputs, then what it writes. */
export function kernelOperands(op: KernelOp): Record<string, number> {
  if (op.kind === 'conv') {
    const g = op.geometry;
    switch (op.pass) {
      case 'forward':
        return { x: convInput(g), w: convKernel(g), y: convOutput(g) };
      case 'input-grad':
        return { dy: convOutput(g), w: convKernel(g), dx: convInput(g) };
      case 'filter-grad':
        return { x: convInput(g), dy: convOutput(g), dw: convKernel(g) };
    }
  }
  const { rows, channels } = op.shape;
  return op.pass === 'forward'
    ? {
        x: rows * channels,
        gammaBeta: 2 * channels,
        moving: 2 * channels,
        stats: 2 * channels,
        y: rows * channels,
      }
    : {
        x: rows * channels,
        dy: rows * channels,
        stats: 2 * channels,
        gammaBeta: 2 * channels,
        dGammaBeta: 2 * channels,
        dx: rows * channels,
      };
}

/** The operand an op writes last: its result. */
export function kernelResult(op: KernelOp): string {
  const names = Object.keys(kernelOperands(op));
  return names[names.length - 1]!;
}

/** Pushes the op's dispatches, binding the harness's operands; `tile` overrides a conv's table. */
export function pushKernelOp(
  list: DispatchList,
  harness: KernelHarness,
  op: KernelOp,
  tile?: GemmTile,
): void {
  const ref = (name: string) => harness.ref(name);
  const label = `${op.kind}-${op.pass}`;
  if (op.kind === 'conv') {
    const geometry = op.geometry;
    const blocking = tile ? { tile } : {};
    switch (op.pass) {
      case 'forward':
        list.push(
          convForward({
            label,
            geometry,
            x: ref('x'),
            kernel: ref('w'),
            bias: null,
            y: ref('y'),
            ...blocking,
          }),
        );
        return;
      case 'input-grad':
        list.push(
          ...convInputGradient({
            label,
            geometry,
            dy: ref('dy'),
            kernel: ref('w'),
            dx: ref('dx'),
            accumulate: false,
            ...blocking,
          }),
        );
        return;
      case 'filter-grad':
        list.push(
          ...convFilterGradient({
            label,
            geometry,
            x: ref('x'),
            dy: ref('dy'),
            dw: ref('dw'),
            scratch: (floats) => list.tensor(floats),
            ...blocking,
          }),
        );
        return;
    }
  }
  const shape = op.shape;
  const partials = list.tensor(partialSumsSize(shape));
  if (op.pass === 'forward') {
    list.push(
      ...batchNormStatistics({
        label: `${label}:statistics`,
        shape,
        keep: 0.9,
        x: ref('x'),
        partials,
        stats: ref('stats'),
        moving: ref('moving'),
      }),
      batchNormApply({
        label,
        shape,
        relu: false,
        x: ref('x'),
        stats: ref('stats'),
        gammaBeta: ref('gammaBeta'),
        y: ref('y'),
      }),
    );
    return;
  }
  const common = {
    shape,
    relu: false,
    x: ref('x'),
    dy: ref('dy'),
    stats: ref('stats'),
    gammaBeta: ref('gammaBeta'),
  };
  list.push(
    ...batchNormParameterGradients({
      label: `${label}:parameters`,
      ...common,
      partials,
      dGammaBeta: ref('dGammaBeta'),
    }),
    batchNormInputGradient({
      label,
      ...common,
      accumulate: false,
      dGammaBeta: ref('dGammaBeta'),
      dx: ref('dx'),
    }),
  );
}

/** Floating-point operations of a convolution pass: 2 per multiply-add of the product. */
export function convFlops(g: ConvGeometry): number {
  return 2 * convOutput(g) * g.kernel * g.kernel * g.inChannels;
}

/**
 * Bytes a batch norm pass must move at the least (read x, write y forward; read x and dy,
 * write dx backward): GB/s over this is the fraction of memory bandwidth it reaches, what
 * one-pass statistics and fused passes are judged by.
 */
export function batchNormBytes(op: Extract<KernelOp, { kind: 'batchnorm' }>): number {
  const elements = op.shape.rows * op.shape.channels;
  return 4 * elements * (op.pass === 'forward' ? 2 : 3);
}
