import { sgdKernels, tf } from '@prunefuse/engine';

export interface SgdOptions {
  /** Momentum m, 0 <= m < 1; 0 is plain SGD. */
  momentum: number;
  /**
   * L2 weight decay added to every gradient, biases and batch-norm scales included
   * (PyTorch's coupled weight_decay, as SVP uses it), >= 0.
   */
  weightDecay: number;
}

/**
 * Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD
 * (dampening 0, not Nesterov): g += wd·w; v = m·v + g; w -= lr·v. PyTorch starts v at the
 * first gradient, which m·0 + g equals.
 *
 * A step is one tidy: per variable, v' = m·v + wd·w + g and w' = w - lr·v'. Where the
 * backend has fused SGD kernels (webgpu) that is two launches per variable; elsewhere an
 * addN of two products and the gradient, then a product and a difference, with m, wd and
 * lr held as scalars on the device so no number is uploaded per kernel call.
 */
export class SgdMomentum {
  private readonly velocities: tf.Variable[];
  private readonly momentum: tf.Scalar;
  private readonly weightDecay: tf.Scalar;
  private learningRate: { value: number; tensor: tf.Scalar } | null = null;

  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly options: SgdOptions,
  ) {
    const { momentum, weightDecay } = options;
    if (!(momentum >= 0 && momentum < 1))
      throw new RangeError(`momentum must be in [0, 1), got ${momentum}`);
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw new RangeError(`weightDecay must be a finite number >= 0, got ${weightDecay}`);
    }
    // The tidy frees the zeros tensor; the variable, which tidy does not track, keeps the data.
    this.velocities =
      momentum > 0 ? variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))) : [];
    // Kept, so that constructing the optimiser inside a caller's tidy does not free them.
    this.momentum = tf.keep(tf.scalar(momentum));
    this.weightDecay = tf.keep(tf.scalar(weightDecay));
  }

  /**
   * Differentiates `loss` with respect to the variables, applies one update at `lr`, and
   * returns the loss (the caller disposes it). Tensors `loss` keeps with tf.keep survive.
   */
  minimize(loss: () => tf.Scalar, lr: number): tf.Scalar {
    const rate = this.rate(lr);
    const fused = sgdKernels();
    const { momentum, weightDecay } = this.options;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, [...this.variables]);
      this.variables.forEach((variable, i) => {
        const gradient = grads[variable.name];
        if (!gradient)
          throw new Error(
            `no gradient for variable '${variable.name}': it does not affect the loss`,
          );
        const velocity = this.velocities[i];
        if (fused) {
          const step =
            velocity || weightDecay > 0
              ? fused.direction(gradient, variable, velocity ?? null, momentum, weightDecay)
              : gradient;
          velocity?.assign(step);
          variable.assign(fused.descend(variable, step, lr));
          return;
        }
        const terms = [gradient];
        if (weightDecay > 0) terms.push(tf.mul(variable, this.weightDecay));
        if (velocity) terms.push(tf.mul(velocity, this.momentum));
        const step = terms.length === 1 ? gradient : tf.addN(terms);
        velocity?.assign(step);
        variable.assign(tf.sub(variable, tf.mul(step, rate)));
      });
      return value;
    });
  }

  dispose(): void {
    for (const velocity of this.velocities) velocity.dispose();
    this.momentum.dispose();
    this.weightDecay.dispose();
    this.learningRate?.tensor.dispose();
    this.learningRate = null;
  }

  private rate(lr: number): tf.Scalar {
    if (!(lr >= 0 && Number.isFinite(lr)))
      throw new RangeError(`learning rate must be a finite number >= 0, got ${lr}`);
    if (this.learningRate?.value !== lr) {
      this.learningRate?.tensor.dispose();
      this.learningRate = { value: lr, tensor: tf.keep(tf.scalar(lr)) };
    }
    return this.learningRate.tensor;
  }
}
