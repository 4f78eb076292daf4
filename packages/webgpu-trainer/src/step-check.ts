import { type BackendName, Rng, relativeError, tf, useBackend } from '@prunefuse/engine';
import {
  activationShapes,
  float64TrainingStep,
  initialWeights,
  type ModelSpec,
  type Network,
  networkFromWeights,
  SgdMomentum,
} from '@prunefuse/models';
import type { LossSpec } from './kernels/loss.js';
import { compileTrainer } from './trainer.js';

/**
 * Training steps from seeded weights on seeded batches, run the same way through the
 * compiled trainer and through tfjs ops on a reference backend: what the tests and
 * `prunefuse verify` compare.
 */
export interface StepCase {
  spec: ModelSpec;
  batch: number;
  /** Seeds the weights (initialWeights); step s trains on seededBatch(spec, n, seed + 1 + s). */
  seed: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov?: boolean;
  /** Cross-entropy unless given. */
  loss?: LossSpec;
  /**
   * Examples in each step (each on its own seeded batch), e.g. [4, 3] for a full batch
   * then a partial last one. Default [batch].
   */
  steps?: number[];
  /**
   * With a distillation loss: the teacher network (weights from its own seed), compiled
   * into the step on webgpu, its inference logits in tfjs. Without it, each batch's
   * seeded teacher logits are passed in.
   */
  teacher?: { spec: ModelSpec; seed: number };
}

export interface StepData {
  /** NHWC. */
  images: Float32Array;
  labels: Int32Array;
  /** [examples, classes]. */
  teacherLogits: Float32Array;
}

/** A seeded batch: standard-normal pixels, uniform labels, teacher logits of scale 2. */
export function seededBatch(spec: ModelSpec, batch: number, seed: number): StepData {
  const rng = new Rng(seed);
  const { height, width, channels } = spec.input;
  const images = Float32Array.from({ length: batch * height * width * channels }, () =>
    rng.normal(),
  );
  const labels = Int32Array.from({ length: batch }, () => rng.int(0, spec.classes - 1));
  const teacherLogits = Float32Array.from({ length: batch * spec.classes }, () => 2 * rng.normal());
  return { images, labels, teacherLogits };
}

export interface StepOutcome {
  /** Mean loss over the steps' examples. */
  loss: number;
  /** Every weight (moving statistics included) after the last step, by name. */
  weights: Map<string, Float32Array>;
}

/** The distillation loss as @prunefuse/prunefuse defines it, in tfjs ops (the reference). */
function distillation(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  { lambda, temperature }: { lambda: number; temperature: number },
): tf.Scalar {
  const hard = tf.losses.softmaxCrossEntropy(oneHot, student);
  const teacherLog = tf.logSoftmax(tf.div(teacher, temperature));
  const studentLog = tf.logSoftmax(tf.div(student, temperature));
  const kl = tf.mean(tf.sum(tf.mul(tf.exp(teacherLog), tf.sub(teacherLog, studentLog)), 1));
  return tf.add(
    tf.mul(hard, lambda),
    tf.mul(kl, (1 - lambda) * temperature * temperature),
  ) as tf.Scalar;
}

function seededNetwork({ spec, seed }: { spec: ModelSpec; seed: number }): Network {
  return networkFromWeights(spec, initialWeights(spec, seed));
}

async function readVariables(network: Network): Promise<Map<string, Float32Array>> {
  const weights = new Map<string, Float32Array>();
  for (const [name, v] of network.variables) weights.set(name, (await v.data()) as Float32Array);
  return weights;
}

/** The steps with tfjs ops (SgdMomentum, tfjs losses) on `backend`. */
export async function tfjsSteps(c: StepCase, backend: BackendName = 'cpu'): Promise<StepOutcome> {
  await useBackend(backend);
  const network = seededNetwork(c);
  const teacher = c.teacher ? seededNetwork(c.teacher) : null;
  const optimizer = new SgdMomentum(network.trainableVariables(), {
    momentum: c.momentum,
    weightDecay: c.weightDecay,
    ...(c.nesterov ? { nesterov: true } : {}),
  });
  let total = 0;
  let examples = 0;
  for (const [s, batch] of (c.steps ?? [c.batch]).entries()) {
    const data = seededBatch(c.spec, batch, c.seed + 1 + s);
    const { height, width, channels } = c.spec.input;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(data.images, [batch, height, width, channels]);
      const oneHot = tf.oneHot(tf.tensor1d(data.labels, 'int32'), c.spec.classes) as tf.Tensor2D;
      const teacherLogits = teacher
        ? teacher.apply(x, { training: false }).logits
        : tf.tensor2d(data.teacherLogits, [batch, c.spec.classes]);
      return optimizer.minimize(() => {
        const { logits } = network.apply(x, { training: true });
        return c.loss?.kind === 'distillation'
          ? distillation(logits, teacherLogits, oneHot, c.loss)
          : (tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar);
      }, c.lr);
    });
    total += (await loss.data())[0]! * batch;
    examples += batch;
    loss.dispose();
  }
  const weights = await readVariables(network);
  optimizer.dispose();
  network.dispose();
  teacher?.dispose();
  return { loss: total / examples, weights };
}

/**
 * The steps through the compiled trainer on webgpu, with the gradients the last step
 * left in the arena, and the last step's activations of the layers named in `keep`.
 */
export async function compiledSteps(
  c: StepCase,
  keep: readonly string[] = [],
): Promise<
  StepOutcome & { gradients: Map<string, Float32Array>; kept: Map<string, Float32Array> }
> {
  await useBackend('webgpu');
  const network = seededNetwork(c);
  const teacherNetwork = c.teacher ? seededNetwork(c.teacher) : null;
  const teacher = teacherNetwork
    ? await compileTrainer(teacherNetwork.spec, {
        batch: c.batch,
        optimizer: { momentum: 0, weightDecay: 0 },
      })
    : null;
  if (teacher && teacherNetwork) await teacher.uploadWeights(teacherNetwork);
  const trainer = await compileTrainer(c.spec, {
    batch: c.batch,
    ...(c.loss ? { loss: c.loss } : {}),
    optimizer: { momentum: c.momentum, weightDecay: c.weightDecay, nesterov: c.nesterov ?? false },
    ...(teacher ? { teacher } : {}),
    ...(keep.length > 0 ? { keep } : {}),
  });
  try {
    await trainer.uploadWeights(network);
    const steps = c.steps ?? [c.batch];
    for (const [s, batch] of steps.entries()) {
      trainer.step({ ...seededBatch(c.spec, batch, c.seed + 1 + s), lr: c.lr });
    }
    const metrics = await trainer.readMetrics();
    const examples = steps.reduce((a, b) => a + b, 0);
    if (metrics.examples !== examples) {
      throw new Error(`metrics count ${metrics.examples} examples, the steps held ${examples}`);
    }
    const { values, gradients } = await trainer.readParameters();
    const kept = keep.length > 0 ? await trainer.readKept(steps.at(-1)) : new Map();
    return { loss: metrics.loss, weights: values, gradients, kept };
  } finally {
    // The student runs the teacher's plan, so it goes first.
    trainer.dispose();
    teacher?.dispose();
    teacherNetwork?.dispose();
    network.dispose();
  }
}

/** How far two computations of a quantity disagree, per weight, worst first. */
export interface WeightAgreement {
  name: string;
  /** max |difference| over max |reference| (see relativeError). */
  relativeError: number;
}

export interface CompiledStepAgreement {
  /** The backend whose tfjs ops computed the reference, or 'float64' (PyTorch). */
  reference: BackendName | 'float64';
  loss: { compiled: number; reference: number; relativeError: number };
  /** Per weight, the update (after - before; moving statistics included). */
  updates: WeightAgreement[];
  /** Per trainable weight, the gradient of the loss (single-step cases only, else empty). */
  gradients: WeightAgreement[];
  /**
   * float64 only: activations where float64 on its own would have taken the other side of
   * a ReLU than the compiled step did (the reference follows the compiled step's
   * decisions, so rounding alone separates the two), summed over layers.
   */
  reluDecisionsFixed?: number;
}

const worstFirst = (rows: WeightAgreement[]) =>
  rows.sort((a, b) => b.relativeError - a.relativeError);

/**
 * The case through the compiled trainer and through a reference from the same weights
 * and batches: tfjs ops on a backend (any loss, any architecture), or one step computed
 * by PyTorch in float64 (cross-entropy), its ReLUs fixed to the compiled step's own
 * decisions: a float32 pre-activation within rounding of zero can fall either way, and
 * one that falls otherwise changes a layer's gradient far beyond rounding. For one
 * step without Nesterov the reference gradient follows from its update (velocity starts
 * at zero: update = -lr (g + wd w)), so each layer's gradient is compared too.
 */
export async function compareCompiledStep(
  c: StepCase & { reference: BackendName | 'float64'; python?: string },
): Promise<CompiledStepAgreement> {
  const singleStep = (c.steps ?? [c.batch]).length === 1 && !c.nesterov;
  if (c.reference === 'float64') {
    if (c.loss?.kind === 'distillation') {
      throw new Error(
        'float64 reference: the PyTorch step computes cross-entropy only; compare a distillation step against a backend (--reference cpu)',
      );
    }
    if (!singleStep) throw new Error('float64 reference: one step without Nesterov only');
  }
  await useBackend('cpu');
  const before = new Map<string, Float32Array>();
  for (const [name, t] of initialWeights(c.spec, c.seed)) {
    before.set(name, (await t.data()) as Float32Array);
    t.dispose();
  }
  let reference: { loss: number; updates: Map<string, ArrayLike<number>> };
  let compiled: Awaited<ReturnType<typeof compiledSteps>>;
  let reluDecisionsFixed: number | undefined;
  if (c.reference === 'float64') {
    const relus = c.spec.layers.filter((l) => l.kind === 'relu').map((l) => l.name);
    compiled = await compiledSteps(c, relus);
    const shapes = activationShapes(c.spec);
    const { images, labels } = seededBatch(c.spec, c.batch, c.seed + 1);
    const { height, width, channels } = c.spec.input;
    const step = await float64TrainingStep({
      spec: c.spec,
      weights: before,
      images: { shape: [c.batch, height, width, channels], data: images },
      labels,
      learningRate: c.lr,
      weightDecay: c.weightDecay,
      reluMasks: new Map(
        [...compiled.kept].map(([name, values]) => [
          name,
          {
            shape: [c.batch, ...shapes.get(name)!],
            data: Uint8Array.from(values, (v) => (v > 0 ? 1 : 0)),
          },
        ]),
      ),
      python: c.python ?? 'python3',
    });
    reference = { loss: step.loss, updates: step.updates };
    reluDecisionsFixed = [...step.float64Disagrees.values()].reduce((n, d) => n + d.count, 0);
    // Callers that compile next expect webgpu to be the active backend, as compiledSteps left it.
    await useBackend('webgpu');
  } else {
    const steps = await tfjsSteps(c, c.reference);
    reference = { loss: steps.loss, updates: updatesOf(before, steps.weights) };
    // Last, so that webgpu is the active backend afterwards, as callers that compile next expect.
    compiled = await compiledSteps(c);
  }
  const compiledUpdates = updatesOf(before, compiled.weights);
  const updates = worstFirst(
    [...reference.updates].map(([name, update]) => ({
      name,
      relativeError: relativeError(compiledUpdates.get(name)!, update),
    })),
  );
  const gradients = singleStep
    ? worstFirst(
        [...compiled.gradients].map(([name, gradient]) => {
          const update = reference.updates.get(name)!;
          const weight = before.get(name)!;
          const expected = Float64Array.from(
            weight,
            (w, i) => -update[i]! / c.lr - c.weightDecay * w,
          );
          return { name, relativeError: relativeError(gradient, expected) };
        }),
      )
    : [];
  return {
    reference: c.reference,
    loss: {
      compiled: compiled.loss,
      reference: reference.loss,
      relativeError: Math.abs(compiled.loss - reference.loss) / Math.abs(reference.loss),
    },
    updates,
    gradients,
    ...(reluDecisionsFixed !== undefined ? { reluDecisionsFixed } : {}),
  };
}

function updatesOf(
  before: ReadonlyMap<string, Float32Array>,
  after: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  return new Map(
    [...after].map(([name, w]) => {
      const old = before.get(name)!;
      return [name, w.map((v, i) => v - old[i]!)];
    }),
  );
}
