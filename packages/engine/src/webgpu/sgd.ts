import type { tf } from '../tf.js';
import { flatLayout, sizeOf, type WebgpuBackend, type WebgpuProgram } from './program.js';

const THREADS = 256;

const dispatchFor = (shape: readonly number[]): [number, number, number] => [
  Math.ceil(sizeOf(shape) / THREADS),
  1,
  1,
];

/**
 * The SGD step direction over same-shaped tensors (read as flat arrays): g + wd·w, plus m·v when there is a
 * velocity v (torch.optim.SGD's buffer update, dampening 0). One launch where the
 * composed form takes three.
 */
class SgdDirectionProgram implements WebgpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  size = true;
  uniforms = 'momentum : f32, weightDecay : f32,';

  constructor(
    shape: number[],
    private readonly withVelocity: boolean,
  ) {
    this.variableNames = withVelocity ? ['g', 'w', 'v'] : ['g', 'w'];
    this.outputShape = shape;
    this.dispatchLayout = flatLayout(shape);
    this.dispatch = dispatchFor(shape);
    this.shaderKey = `prunefuse_sgdDirection${withVelocity ? 'Momentum' : ''}`;
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var value = g[index] + uniforms.weightDecay * w[index];
          ${this.withVelocity ? 'value = value + uniforms.momentum * v[index];' : ''}
          setOutputAtIndex(index, value);
        }
      }
    `;
  }
}

/** w − lr·d over same-shaped tensors. */
class SgdDescendProgram implements WebgpuProgram {
  variableNames = ['w', 'd'];
  outputShape: number[];
  shaderKey = 'prunefuse_sgdDescend';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  size = true;
  uniforms = 'rate : f32,';

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = flatLayout(shape);
    this.dispatch = dispatchFor(shape);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, w[index] - uniforms.rate * d[index]);
        }
      }
    `;
  }
}

type Info = tf.TensorInfo;

export function sgdDirectionWebgpu({
  inputs: { g, w, v },
  backend,
  attrs: { momentum, weightDecay },
}: {
  inputs: { g: Info; w: Info; v?: Info };
  backend: WebgpuBackend;
  attrs: { momentum: number; weightDecay: number };
}): Info {
  return backend.runWebGPUProgram(
    new SgdDirectionProgram(w.shape, v !== undefined),
    v ? [g, w, v] : [g, w],
    'float32',
    [
      { type: 'float32', data: [momentum] },
      { type: 'float32', data: [weightDecay] },
    ],
  );
}

export function sgdDescendWebgpu({
  inputs: { w, d },
  backend,
  attrs: { rate },
}: {
  inputs: { w: Info; d: Info };
  backend: WebgpuBackend;
  attrs: { rate: number };
}): Info {
  return backend.runWebGPUProgram(new SgdDescendProgram(w.shape), [w, d], 'float32', [
    { type: 'float32', data: [rate] },
  ]);
}
