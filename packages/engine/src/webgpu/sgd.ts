import type { tf } from '../tf.js';
import { runElementwise, type WebgpuBackend } from './program.js';

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
  return runElementwise(backend, {
    key: `prunefuse_sgdDirection${v ? 'Momentum' : ''}`,
    inputs: { g, w, v },
    shape: w.shape,
    body: `let value = g[index] + uniforms.weightDecay * w[index]${v ? ' + uniforms.momentum * v[index]' : ''};`,
    uniforms: { momentum: ['f32', momentum], weightDecay: ['f32', weightDecay] },
  });
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
  return runElementwise(backend, {
    key: 'prunefuse_sgdDescend',
    inputs: { w, d },
    shape: w.shape,
    body: 'let value = w[index] - uniforms.rate * d[index];',
    uniforms: { rate: ['f32', rate] },
  });
}
