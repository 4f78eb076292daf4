import { deriveSeed, Rng, tf } from '@prunefuse/engine';
import type { ModelSpec } from './spec.js';
import { type WeightSpec, weightSpecs } from './weights.js';

/**
 * Initial values of every weight, drawn in JavaScript from seeded streams so that a seed
 * gives bit-identical weights on every backend. Each weight has its own stream (named by
 * the weight), so changing one layer never shifts another's values.
 *
 * - conv kernels: He-normal, std sqrt(2 / (kh·kw·out)), i.e. fan-out mode with the ReLU
 *   gain, as torchvision's ResNets and SVP's CIFAR models (svp/cifar/models.py, the code
 *   PruneFuse builds on) do. Batch norm removes the forward scale either way; fan-out
 *   keeps the backward signal's variance constant. Conv biases start at 0.
 * - dense kernel and bias: PyTorch's nn.Linear default, U(-1/sqrt(in), 1/sqrt(in)).
 * - batch norm: gamma 1, beta 0, moving mean 0, moving variance 1.
 *
 * The caller owns the returned tensors.
 */
export function initialWeights(spec: ModelSpec, seed: number): Map<string, tf.Tensor> {
  const kinds = new Map(spec.layers.map((layer) => [layer.name, layer.kind]));
  const weights = weightSpecs(spec);
  // A dense layer's bias is scaled by its kernel's fan-in, [in, out][0].
  const denseFanIn = new Map(
    weights
      .filter((w) => w.kind === 'kernel' && kinds.get(w.layer) === 'dense')
      .map((w) => [w.layer, w.shape[0]!]),
  );
  const result = new Map<string, tf.Tensor>();
  for (const weight of weights) {
    const rng = new Rng(deriveSeed(seed, 'init', weight.name));
    result.set(
      weight.name,
      tf.tensor(initialValues(weight, denseFanIn.get(weight.layer), rng), weight.shape, 'float32'),
    );
  }
  return result;
}

/** `denseFanIn` is set for weights of dense layers, undefined for conv and batch norm. */
function initialValues(weight: WeightSpec, denseFanIn: number | undefined, rng: Rng): Float32Array {
  const values = new Float32Array(weight.shape.reduce((a, b) => a * b, 1));
  switch (weight.kind) {
    case 'kernel':
      if (denseFanIn !== undefined) {
        fillUniform(values, 1 / Math.sqrt(denseFanIn), rng);
      } else {
        const [kh, kw, , out] = weight.shape as [number, number, number, number];
        const std = Math.sqrt(2 / (kh * kw * out));
        for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
      }
      return values;
    case 'bias':
      if (denseFanIn !== undefined) fillUniform(values, 1 / Math.sqrt(denseFanIn), rng);
      return values;
    case 'gamma':
    case 'movingVariance':
      return values.fill(1);
    case 'beta':
    case 'movingMean':
      return values;
  }
}

function fillUniform(values: Float32Array, bound: number, rng: Rng): void {
  for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * bound;
}
