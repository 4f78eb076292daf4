import { type BufferRef, type Constants, cu, type Dispatch } from '../wgsl.js';
import { gemm } from './gemm.js';

/** A dense layer: `batch` rows of `inputs` features to `units` outputs, kernel [inputs, units]. */
export interface DenseShape {
  batch: number;
  inputs: number;
  units: number;
}

const constants = (s: DenseShape): Constants => ({ FIN: cu(s.inputs), UNITS: cu(s.units) });

/** y = x·W (+ bias). */
export function denseForward(options: {
  label: string;
  shape: DenseShape;
  x: BufferRef;
  kernel: BufferRef;
  bias: BufferRef | null;
  y: BufferRef;
}): Dispatch {
  const { shape } = options;
  const bindings = [
    { name: 'x', ref: options.x },
    { name: 'w', ref: options.kernel },
    { name: 'y', ref: options.y },
  ];
  if (options.bias) bindings.push({ name: 'bias', ref: options.bias });
  return gemm({
    label: options.label,
    m: shape.batch,
    n: shape.units,
    k: shape.inputs,
    bindings,
    constants: constants(shape),
    loadA: 'return x[m * FIN + k];',
    loadB: 'return w[k * UNITS + n];',
    store: `y[m * UNITS + n] = v${options.bias ? ' + bias[n]' : ''};`,
    aContiguous: 'k',
    bContiguous: 'n',
  });
}

/** dx (+)= dy·Wᵀ. */
export function denseInputGradient(options: {
  label: string;
  shape: DenseShape;
  dy: BufferRef;
  kernel: BufferRef;
  dx: BufferRef;
  accumulate: boolean;
}): Dispatch {
  const { shape } = options;
  return gemm({
    label: options.label,
    m: shape.batch,
    n: shape.inputs,
    k: shape.units,
    bindings: [
      { name: 'dy', ref: options.dy },
      { name: 'w', ref: options.kernel },
      { name: 'dx', ref: options.dx },
    ],
    constants: constants(shape),
    loadA: 'return dy[m * UNITS + k];',
    loadB: 'return w[n * UNITS + k];',
    store: `dx[m * FIN + n] ${options.accumulate ? '+=' : '='} v;`,
    aContiguous: 'k',
    bContiguous: 'k',
  });
}

/** dW = xᵀ·dy. */
export function denseKernelGradient(options: {
  label: string;
  shape: DenseShape;
  x: BufferRef;
  dy: BufferRef;
  dw: BufferRef;
}): Dispatch {
  const { shape } = options;
  return gemm({
    label: options.label,
    m: shape.inputs,
    n: shape.units,
    k: shape.batch,
    bindings: [
      { name: 'x', ref: options.x },
      { name: 'dy', ref: options.dy },
      { name: 'dw', ref: options.dw },
    ],
    constants: constants(shape),
    loadA: 'return x[k * FIN + m];',
    loadB: 'return dy[k * UNITS + n];',
    store: 'dw[m * UNITS + n] = v;',
    aContiguous: 'm',
    bContiguous: 'n',
  });
}
