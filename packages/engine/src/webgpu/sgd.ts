import type { tf } from '../tf.js';
import { ElementwiseProgram, type WebgpuBackend } from './program.js';

type Info = tf.TensorInfo;

/**
 * The SGD step direction over same-shaped tensors: g + wd·w, plus m·v when there is a
 * velocity v (torch.optim.SGD's buffer update, dampening 0). One launch where the
 * composed form takes three.
 */
export function sgdDirectionWebgpu({
  inputs: { g, w, v },
  backend,
  attrs: { momentum, weightDecay },
}: {
  inputs: { g: Info; w: Info; v?: Info };
  backend: WebgpuBackend;
  attrs: { momentum: number; weightDecay: number };
}): Info {
  const program = new ElementwiseProgram(
    `prunefuse_sgdDirection${v ? 'Momentum' : ''}`,
    v ? ['g', 'w', 'v'] : ['g', 'w'],
    w.shape,
    `let value = g[index] + uniforms.weightDecay * w[index]${v ? ' + uniforms.momentum * v[index]' : ''};`,
    'momentum : f32, weightDecay : f32,',
  );
  return backend.runWebGPUProgram(program, v ? [g, w, v] : [g, w], 'float32', [
    { type: 'float32', data: [momentum] },
    { type: 'float32', data: [weightDecay] },
  ]);
}

/** w − lr·d over same-shaped tensors. */
export function sgdDescendWebgpu({
  inputs: { w, d },
  backend,
  attrs: { rate },
}: {
  inputs: { w: Info; d: Info };
  backend: WebgpuBackend;
  attrs: { rate: number };
}): Info {
  const program = new ElementwiseProgram(
    'prunefuse_sgdDescend',
    ['w', 'd'],
    w.shape,
    'let value = w[index] - uniforms.rate * d[index];',
    'rate : f32,',
  );
  return backend.runWebGPUProgram(program, [w, d], 'float32', [{ type: 'float32', data: [rate] }]);
}
