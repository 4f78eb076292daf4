import { runTorchScript } from './pytorch-reference.js';
import type { ModelSpec } from './spec.js';
import { weightSpecs } from './weights.js';

/** A float32 array with its shape, as the backend laid it out. */
export interface ShapedValues<T extends ArrayLike<number>> {
  shape: readonly number[];
  data: T;
}

/** Everything the float64 twin of a training step needs; see torch/training_step_float64.py. */
export interface Float64StepRequest {
  spec: ModelSpec;
  /** Every variable's value before the step, by weight name, in the TypeScript layouts. */
  weights: ReadonlyMap<string, Float32Array>;
  /** NHWC. */
  images: ShapedValues<Float32Array>;
  /** Class index per image. */
  labels: Int32Array;
  learningRate: number;
  weightDecay: number;
  /**
   * Per ReLU layer, which activations (NHWC) a float32 forward pass found positive (1) or
   * not (0): the reference follows these instead of its own comparisons with zero.
   */
  reluMasks?: ReadonlyMap<string, ShapedValues<Uint8Array>>;
  /** The Python interpreter that has torch. */
  python: string;
}

/** Activations a float32 backend and float64 put on different sides of zero in one ReLU layer. */
export interface ReluDisagreement {
  count: number;
  /** The largest |pre-activation| among them, in float64. */
  largest: number;
  /** The layer's largest |pre-activation|, for scale. */
  scale: number;
}

export interface Float64Step {
  /** The torch version that computed it. */
  torch: string;
  loss: number;
  /** Per variable, new minus old value (moving statistics included), TypeScript layout. */
  updates: Map<string, Float64Array>;
  /** Per ReLU layer where float64 alone would have decided some activations otherwise. */
  float64Disagrees: Map<string, ReluDisagreement>;
}

const SCRIPT = 'training_step_float64.py';
const PURPOSE = 'float64 reference';

/**
 * The torch version `python` imports, or an error that says how to install it: worth
 * knowing before a backend spends its time on the step the reference is for.
 */
export async function float64ReferenceTorch(python: string): Promise<string> {
  const { torch } = await runTorchScript<{ torch: string }>({
    script: SCRIPT,
    args: ['--check'],
    python,
    purpose: PURPOSE,
  });
  return torch;
}

/** One SGD-momentum training step from zero velocity, computed in float64 by PyTorch. */
export async function float64TrainingStep(request: Float64StepRequest): Promise<Float64Step> {
  const shapes = new Map(weightSpecs(request.spec).map((w) => [w.name, w.shape]));
  const shaped = ({ shape, data }: ShapedValues<Float32Array | Uint8Array>) => ({
    shape,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  });
  const input = JSON.stringify({
    spec: request.spec,
    weights: Object.fromEntries(
      [...request.weights].map(([name, data]) => [
        name,
        shaped({ shape: shapes.get(name)!, data }),
      ]),
    ),
    images: shaped(request.images),
    labels: [...request.labels],
    learningRate: request.learningRate,
    weightDecay: request.weightDecay,
    reluMasks: Object.fromEntries(
      [...(request.reluMasks ?? [])].map(([name, mask]) => [name, shaped(mask)]),
    ),
  });
  const result = await runTorchScript<{
    torch: string;
    loss: number;
    updates: Record<string, string>;
    float64Disagrees: Record<string, ReluDisagreement>;
  }>({
    script: SCRIPT,
    input,
    python: request.python,
    purpose: PURPOSE,
  });
  return {
    torch: result.torch,
    loss: result.loss,
    updates: new Map(
      Object.entries(result.updates).map(([name, base64]) => {
        const bytes = Buffer.from(base64, 'base64');
        // Copied into an aligned buffer: a Buffer's offset need not be a multiple of 8.
        return [name, new Float64Array(new Uint8Array(bytes).buffer)];
      }),
    ),
    float64Disagrees: new Map(Object.entries(result.float64Disagrees)),
  };
}
