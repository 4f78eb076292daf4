import type { tf } from '../tf.js';
import { ElementwiseProgram, type WebgpuBackend } from './program.js';

type Info = tf.TensorInfo;

export function addReluWebgpu({
  inputs: { a, b },
  backend,
}: {
  inputs: { a: Info; b: Info };
  backend: WebgpuBackend;
}): Info {
  const program = new ElementwiseProgram(
    'prunefuse_addRelu',
    ['a', 'b'],
    a.shape,
    'let value = max(a[index] + b[index], 0.0);',
  );
  return backend.runWebGPUProgram(program, [a, b], 'float32');
}

export function reluGradientWebgpu({
  inputs: { dy, y },
  backend,
}: {
  inputs: { dy: Info; y: Info };
  backend: WebgpuBackend;
}): Info {
  const program = new ElementwiseProgram(
    'prunefuse_reluGradient',
    ['dy', 'y'],
    dy.shape,
    'let value = select(0.0, dy[index], y[index] > 0.0);',
  );
  return backend.runWebGPUProgram(program, [dy, y], 'float32');
}
