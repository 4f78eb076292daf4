import { Rng, relativeError, tf, useBackend } from '@prunefuse/engine';
import { initialWeights, type ModelSpec, networkFromWeights, SgdMomentum } from '@prunefuse/models';
import { compileTrainer, type LossSpec } from '../src/index.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    await useBackend('webgpu');
    return true;
  } catch (error) {
    console.warn(`skipping compiled-trainer tests: ${(error as Error).message}`);
    return false;
  }
}

export interface StepCase {
  spec: ModelSpec;
  batch: number;
  seed: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov?: boolean;
  loss?: LossSpec;
  /**
   * Examples in each step (each on its own seeded batch), e.g. [4, 3] for a full batch
   * then a partial last one; the comparison is after the last. Default [batch].
   */
  steps?: number[];
}

interface StepData {
  images: Float32Array;
  labels: Int32Array;
  teacherLogits: Float32Array;
}

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

/** The distillation loss as @prunefuse/prunefuse defines it, in tfjs ops (the reference). */
function distillation(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  lambda: number,
  temperature: number,
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

/** Weights after `steps` SGD steps on the tfjs cpu backend, and the mean loss of the steps. */
async function cpuSteps(
  c: StepCase,
): Promise<{ loss: number; weights: Map<string, Float32Array> }> {
  await useBackend('cpu');
  const network = networkFromWeights(c.spec, initialWeights(c.spec, c.seed));
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
      const teacher = tf.tensor2d(data.teacherLogits, [batch, c.spec.classes]);
      return optimizer.minimize(() => {
        const { logits } = network.apply(x, { training: true });
        return c.loss?.kind === 'distillation'
          ? distillation(logits, teacher, oneHot, c.loss.lambda, c.loss.temperature)
          : (tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar);
      }, c.lr);
    });
    total += (await loss.data())[0]! * batch;
    examples += batch;
    loss.dispose();
  }
  const weights = new Map<string, Float32Array>();
  for (const [name, v] of network.variables) weights.set(name, (await v.data()) as Float32Array);
  optimizer.dispose();
  network.dispose();
  return { loss: total / examples, weights };
}

/** The same steps through the compiled trainer on webgpu. */
async function compiledSteps(
  c: StepCase,
): Promise<{ loss: number; weights: Map<string, Float32Array> }> {
  await useBackend('webgpu');
  const network = networkFromWeights(c.spec, initialWeights(c.spec, c.seed));
  const trainer = await compileTrainer(c.spec, {
    batch: c.batch,
    ...(c.loss ? { loss: c.loss } : {}),
    optimizer: { momentum: c.momentum, weightDecay: c.weightDecay, nesterov: c.nesterov ?? false },
  });
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
  trainer.downloadWeights(network);
  trainer.dispose();
  const weights = new Map<string, Float32Array>();
  for (const [name, v] of network.variables) weights.set(name, (await v.data()) as Float32Array);
  network.dispose();
  return { loss: metrics.loss, weights };
}

/** The largest relative error of a case, and its loss error, for assertions. */
export function worst(agreement: Agreement): { name: string; relativeError: number; loss: number } {
  const { compiled, reference } = agreement.loss;
  return { ...agreement.updates[0]!, loss: Math.abs(compiled - reference) / Math.abs(reference) };
}

export interface Agreement {
  loss: { compiled: number; reference: number };
  /** Per variable, relativeError of the update (after − before), worst first. */
  updates: { name: string; relativeError: number }[];
}

/** One case on the cpu backend and through the compiled trainer, compared update by update. */
export async function compareWithCpu(c: StepCase): Promise<Agreement> {
  await useBackend('cpu');
  const initial = new Map<string, Float32Array>();
  for (const [name, t] of initialWeights(c.spec, c.seed)) {
    initial.set(name, (await t.data()) as Float32Array);
    t.dispose();
  }
  const reference = await cpuSteps(c);
  const compiled = await compiledSteps(c);
  const update = (w: Float32Array, name: string) => w.map((v, i) => v - initial.get(name)![i]!);
  const updates = [...reference.weights]
    .map(([name, w]) => ({
      name,
      relativeError: relativeError(update(compiled.weights.get(name)!, name), update(w, name)),
    }))
    .sort((a, b) => b.relativeError - a.relativeError);
  return { loss: { compiled: compiled.loss, reference: reference.loss }, updates };
}

/**
 * `spec` with other conv widths: `filters(layer, current)` gives each conv's output
 * channels (shapes downstream follow, as in a pruned network).
 */
export function withConvWidths(
  spec: ModelSpec,
  filters: (layer: string, current: number) => number,
): ModelSpec {
  return {
    ...spec,
    layers: spec.layers.map((layer) =>
      layer.kind === 'conv' ? { ...layer, filters: filters(layer.name, layer.filters) } : layer,
    ),
  };
}
