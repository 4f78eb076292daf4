import { addReluKernels, tf } from '@prunefuse/engine';

/**
 * relu(a + b + ...), the end of a residual block. With fused kernels (webgpu) and two
 * same-shaped inputs it is one launch forward and one backward, where tfjs's addition and
 * ReLU take two each; otherwise it is tf.addN then tf.relu.
 */
export function addRelu(inputs: tf.Tensor[]): tf.Tensor {
  const kernels = addReluKernels();
  const [a, b] = inputs;
  if (
    !kernels ||
    inputs.length !== 2 ||
    a!.rank === 0 ||
    !tf.util.arraysEqual(a!.shape, b!.shape)
  ) {
    return tf.relu(tf.addN(inputs));
  }
  const fused = tf.customGrad((...args: unknown[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const output = kernels.forward(x, y);
    save([output]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const gradient = kernels.gradient(dy, saved[0]!);
        // The same gradient for both inputs, as two tensors: tfjs disposes each on its own.
        return [gradient, tf.reshape(gradient, gradient.shape)];
      },
    };
  });
  return fused(a!, b!);
}
