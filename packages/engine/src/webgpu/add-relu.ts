import type { tf } from '../tf.js';
import { runElementwise, type WebgpuBackend } from './program.js';

type Info = tf.TensorInfo;
type Args<I> = { inputs: I; backend: WebgpuBackend };

export function addReluWebgpu({ inputs: { a, b }, backend }: Args<{ a: Info; b: Info }>): Info {
  return runElementwise(backend, {
    key: 'prunefuse_addRelu',
    inputs: { a, b },
    shape: a.shape,
    body: 'let value = max(a[index] + b[index], 0.0);',
  });
}

export function reluGradientWebgpu({
  inputs: { dy, y },
  backend,
}: Args<{ dy: Info; y: Info }>): Info {
  return runElementwise(backend, {
    key: 'prunefuse_reluGradient',
    inputs: { dy, y },
    shape: dy.shape,
    body: 'let value = select(0.0, dy[index], y[index] > 0.0);',
  });
}
