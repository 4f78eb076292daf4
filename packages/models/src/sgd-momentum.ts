import { sgdKernels, tf } from '@prunefuse/engine';

export interface SgdOptions {
  /** Momentum m, 0 <= m < 1; 0 is plain SGD. */
  momentum: number;
  /**
   * L2 weight decay added to every gradient, biases and batch-norm scales included
   * (PyTorch's coupled weight_decay, as SVP uses it), >= 0.
   */
  weightDecay: number;
  /**
   * Nesterov momentum as torch.optim.SGD(nesterov=True): the step looks ahead along the new
   * velocity, w -= lr·(g + m·v). Needs momentum > 0 (PyTorch refuses it otherwise).
   */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD
 * (dampening 0): g += wd·w; v = m·v + g; then w -= lr·v, or w -= lr·(g + m·v) with
 * Nesterov. PyTorch starts v at the first gradient, which m·0 + g equals.
 *
 * A step is one tidy: per variable, v' = m·v + wd·w + g and w' = w - lr·v'. Where the
 * backend has fused SGD kernels (webgpu) that is two launches per variable; elsewhere an
 * addN of two products and the gradient, then a product and a difference, with m, wd and
 * lr held as scalars on the device so no number is uploaded per kernel call. Nesterov's
 * step g + wd·w + m·v' is the same direction formula applied to the new velocity, so it
 * costs one more fused launch (or one more addN), not a kernel of its own.
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
    const { momentum, weightDecay, nesterov = false } = options;
    if (!(momentum >= 0 && momentum < 1))
      throw new RangeError(`momentum must be in [0, 1), got ${momentum}`);
    if (nesterov && momentum === 0) {
      throw new RangeError('nesterov needs a momentum > 0 (with momentum 0 there is no velocity)');
    }
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
    const { momentum, weightDecay, nesterov = false } = this.options;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, [...this.variables]);
      this.variables.forEach((variable, i) => {
        const gradient = grads[variable.name];
        if (!gradient)
          throw new Error(
            `no gradient for variable '${variable.name}': it does not affect the loss`,
          );
        const velocity = this.velocities[i];
        const direction = fused
          ? // g + wd·w + m·v in one launch, for the velocity given (none: g + wd·w).
            (v: tf.Tensor | null) =>
              v || weightDecay > 0
                ? fused.direction(gradient, variable, v, momentum, weightDecay)
                : gradient
          : this.composedDirection(gradient, variable);
        const updated = direction(velocity ?? null);
        velocity?.assign(updated);
        const step = nesterov ? direction(updated) : updated;
        variable.assign(
          fused ? fused.descend(variable, step, lr) : tf.sub(variable, tf.mul(step, rate)),
        );
      });
      return value;
    });
  }

  /** g + wd·w + m·v with tfjs ops, for the velocity given (none: g + wd·w); wd·w made once. */
  private composedDirection(
    gradient: tf.Tensor,
    variable: tf.Variable,
  ): (velocity: tf.Tensor | null) => tf.Tensor {
    const decay = this.options.weightDecay > 0 ? tf.mul(variable, this.weightDecay) : null;
    return (velocity) => {
      const terms = [gradient];
      if (decay) terms.push(decay);
      if (velocity) terms.push(tf.mul(velocity, this.momentum));
      return terms.length === 1 ? gradient : tf.addN(terms);
    };
  }

  /**
   * The velocities, one after another in the order of the variables (empty without
   * momentum): with the variables' values, all a resumed training needs to go on exactly.
   */
  async readVelocities(): Promise<Float32Array> {
    const total = this.velocities.reduce((sum, v) => sum + v.size, 0);
    const values = new Float32Array(total);
    let offset = 0;
    for (const velocity of this.velocities) {
      // Read asynchronously: the webgpu backend cannot read a GPU tensor synchronously in Node.
      values.set((await velocity.data()) as Float32Array, offset);
      offset += velocity.size;
    }
    return values;
  }

  /** Sets the velocities to what readVelocities returned for the same variables. */
  writeVelocities(values: Float32Array): void {
    const total = this.velocities.reduce((sum, v) => sum + v.size, 0);
    if (values.length !== total) {
      throw new RangeError(`expected ${total} velocity values for these variables, got ${values.length}`);
    }
    let offset = 0;
    for (const velocity of this.velocities) {
      const part = tf.tensor(values.subarray(offset, offset + velocity.size), velocity.shape);
      velocity.assign(part);
      part.dispose();
      offset += velocity.size;
    }
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
