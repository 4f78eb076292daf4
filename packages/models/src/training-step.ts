import {
  type BackendName,
  Rng,
  relativeError,
  tensorReady,
  tf,
  useBackend,
} from '@prunefuse/engine';
import { architecture } from './architectures/registry.js';
import { buildNetwork } from './build.js';
import {
  float64ReferenceTorch,
  float64TrainingStep,
  type ReluDisagreement,
  type ShapedValues,
} from './float64-reference.js';
import type { LayerObserver, Network } from './network.js';
import { SgdMomentum, type SgdOptions } from './sgd-momentum.js';
import type { InputShape, ModelSpec } from './spec.js';

const CLASSES = 10;

/** The input shapes the bench, profile and verify cases are named by. */
export const BENCH_INPUT_SHAPES = {
  cifar: { height: 32, width: 32, channels: 3 },
  mnist: { height: 28, width: 28, channels: 1 },
} as const satisfies Readonly<Record<string, InputShape>>;

/**
 * One network, one seeded batch and an SGD-momentum optimiser on the active backend:
 * the unit that training benchmarks, kernel profiles and cross-backend checks share.
 */
export interface TrainingStepFixture {
  readonly network: Network;
  /** The batch: NHWC images and one class index per image. */
  readonly images: tf.Tensor4D;
  readonly classes: Int32Array;
  readonly learningRate: number;
  readonly optimizer: SgdOptions;
  /**
   * Queues one step (forward in training mode, backward, update) and returns its loss;
   * `observe` sees each layer's output of the forward pass.
   */
  step(observe?: LayerObserver): tf.Scalar;
  /** Resolves once every queued step has finished on the device. */
  ready(): Promise<void>;
  dispose(): void;
}

export interface TrainingStepOptions {
  arch: string;
  input: InputShape;
  batch: number;
  /** Seeds the weights; the batch uses seeds derived from it. */
  seed?: number;
  learningRate?: number;
}

// The optimiser experiments train with (without weight decay, like the PyTorch reference).
const FIXTURE_OPTIMIZER: SgdOptions = { momentum: 0.9, weightDecay: 0 };

export function trainingStepFixture({
  arch,
  input,
  batch,
  seed = 1,
  learningRate = 0.01,
}: TrainingStepOptions): TrainingStepFixture {
  const network = buildNetwork(architecture(arch, { input, classes: CLASSES }), seed);
  const images = seededImages(input, batch, seed + 1);
  const classes = seededClasses(batch, seed + 2);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), CLASSES) as tf.Tensor2D);
  const variables = network.trainableVariables();
  const optimizer = new SgdMomentum(variables, FIXTURE_OPTIMIZER);
  return {
    network,
    images,
    classes,
    learningRate,
    optimizer: FIXTURE_OPTIMIZER,
    step: (observe) =>
      optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            network.apply(images, { training: true, observe }).logits,
          ) as tf.Scalar,
        learningRate,
      ),
    // Reading an updated weight waits for the whole step on asynchronous backends.
    ready: () => tensorReady(variables[variables.length - 1]!),
    dispose() {
      optimizer.dispose();
      network.dispose();
      tf.dispose([images, y]);
    },
  };
}

/** A seeded batch of standard-normal pixels. */
export function seededImages(input: InputShape, batch: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const pixels = new Float32Array(batch * input.height * input.width * input.channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.normal();
  return tf.tensor4d(pixels, [batch, input.height, input.width, input.channels]);
}

function seededClasses(batch: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: batch }, () => rng.int(0, CLASSES - 1));
}

export interface StepAgreement {
  backend: BackendName;
  /** A backend, or PyTorch computing in float64 (see compareWithFloat64). */
  reference: BackendName | 'float64';
  loss: { backend: number; reference: number; relativeError: number };
  /**
   * Per variable, the relative error of the update (new minus old value, batch-norm
   * moving statistics included) against the reference's: max |difference| over
   * max |reference update|. Comparing updates, not weights, keeps a wrong gradient from
   * hiding behind the unchanged bulk of the weights. Worst first.
   */
  updates: { name: string; relativeError: number }[];
  /**
   * Against float64: the ReLU activations of the step, and per layer those float64 alone
   * would have put on the other side of zero (the reference took the backend's side).
   */
  relu?: {
    activations: number;
    float64Disagrees: ({ layer: string } & ReluDisagreement)[];
  };
}

/** One step on a backend as its caller sees it: what it computed from, loss, updates. */
interface ObservedStep {
  spec: ModelSpec;
  images: ShapedValues<Float32Array>;
  classes: Int32Array;
  learningRate: number;
  optimizer: SgdOptions;
  loss: number;
  before: Map<string, Float32Array>;
  /** Per variable, new minus old value. */
  updates: Map<string, Float32Array>;
  /** Per ReLU layer, which of its outputs were positive (NHWC). */
  reluMasks: Map<string, ShapedValues<Uint8Array>>;
}

async function observeTrainingStep(
  options: TrainingStepOptions & { backend: BackendName },
): Promise<ObservedStep> {
  await useBackend(options.backend);
  const fixture = trainingStepFixture({ ...options, learningRate: options.learningRate ?? 0.1 });
  const read = async () => {
    const values = new Map<string, Float32Array>();
    for (const [name, v] of fixture.network.variables) {
      values.set(name, (await v.data()) as Float32Array);
    }
    return values;
  };
  const before = await read();
  const reluLayers = new Set(
    fixture.network.spec.layers.filter((l) => l.kind === 'relu').map((l) => l.name),
  );
  const positive = new Map<string, tf.Tensor>();
  const loss = fixture.step((layer, output) => {
    if (reluLayers.has(layer)) positive.set(layer, tf.keep(tf.greater(output, 0)));
  });
  const lossValue = (await loss.data())[0]!;
  loss.dispose();
  const after = await read();
  const reluMasks = new Map<string, ShapedValues<Uint8Array>>();
  for (const [layer, mask] of positive) {
    reluMasks.set(layer, { shape: mask.shape, data: (await mask.data()) as Uint8Array });
  }
  tf.dispose([...positive.values()]);
  const observed: ObservedStep = {
    spec: fixture.network.spec,
    images: { shape: fixture.images.shape, data: (await fixture.images.data()) as Float32Array },
    classes: fixture.classes,
    learningRate: fixture.learningRate,
    optimizer: fixture.optimizer,
    loss: lossValue,
    before,
    updates: new Map(
      [...after].map(([name, w]) => {
        const old = before.get(name)!;
        return [name, w.map((value, i) => value - old[i]!)];
      }),
    ),
    reluMasks,
  };
  fixture.dispose();
  return observed;
}

function agreement(
  actual: { loss: number; updates: ReadonlyMap<string, ArrayLike<number>> },
  expected: { loss: number; updates: ReadonlyMap<string, ArrayLike<number>> },
): Pick<StepAgreement, 'loss' | 'updates'> {
  const updates = [...expected.updates]
    .map(([name, update]) => ({
      name,
      relativeError: relativeError(actual.updates.get(name)!, update),
    }))
    .sort((a, b) => b.relativeError - a.relativeError);
  return {
    loss: {
      backend: actual.loss,
      reference: expected.loss,
      relativeError: Math.abs(actual.loss - expected.loss) / Math.abs(expected.loss),
    },
    updates,
  };
}

/**
 * The same training step, from the same weights on the same batch, on `backend` and on
 * `reference`: how far the loss and each variable's update disagree. Both compute in
 * float32, so an activation within rounding of zero may pass a ReLU on one and not on
 * the other, which changes its gradient by a whole unit: compareWithFloat64 separates that
 * from a wrong kernel.
 */
export async function compareTrainingStep(
  options: TrainingStepOptions & { backend: BackendName; reference: BackendName },
): Promise<StepAgreement> {
  const expected = await observeTrainingStep({ ...options, backend: options.reference });
  const actual = await observeTrainingStep(options);
  return { backend: options.backend, reference: options.reference, ...agreement(actual, expected) };
}

/**
 * The training step on `backend` against the same step computed by PyTorch in float64
 * from the same float32 weights and batch, with every ReLU taking the decision the
 * backend's own forward pass took (see torch/training_step_float64.py). Both then follow
 * the same piecewise-linear function, so what separates them is the backend's float32
 * rounding and any error in its kernels, not which side of zero an activation within
 * rounding of it happened to fall.
 */
export async function compareWithFloat64(
  options: TrainingStepOptions & { backend: BackendName; python: string },
): Promise<StepAgreement> {
  await float64ReferenceTorch(options.python);
  const actual = await observeTrainingStep(options);
  const expected = await float64TrainingStep({
    spec: actual.spec,
    weights: actual.before,
    images: actual.images,
    labels: actual.classes,
    learningRate: actual.learningRate,
    weightDecay: actual.optimizer.weightDecay,
    reluMasks: actual.reluMasks,
    python: options.python,
  });
  let activations = 0;
  for (const mask of actual.reluMasks.values()) activations += mask.data.length;
  const float64Disagrees = [...expected.float64Disagrees].map(([layer, d]) => ({ layer, ...d }));
  return {
    backend: options.backend,
    reference: 'float64',
    ...agreement(actual, expected),
    relu: { activations, float64Disagrees },
  };
}
