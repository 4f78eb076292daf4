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
import type { Network } from './network.js';
import { SgdMomentum } from './sgd-momentum.js';
import type { InputShape } from './spec.js';

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
  /** Queues one step (forward in training mode, backward, update) and returns its loss. */
  step(): tf.Scalar;
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

export function trainingStepFixture({
  arch,
  input,
  batch,
  seed = 1,
  learningRate = 0.01,
}: TrainingStepOptions): TrainingStepFixture {
  const network = buildNetwork(architecture(arch, { input, classes: CLASSES }), seed);
  const x = seededImages(input, batch, seed + 1);
  const y = seededLabels(batch, seed + 2);
  const variables = network.trainableVariables();
  // The optimiser experiments train with (without weight decay, like the PyTorch reference).
  const optimizer = new SgdMomentum(variables, { momentum: 0.9, weightDecay: 0 });
  return {
    network,
    step: () =>
      optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            network.apply(x, { training: true }).logits,
          ) as tf.Scalar,
        learningRate,
      ),
    // Reading an updated weight waits for the whole step on asynchronous backends.
    ready: () => tensorReady(variables[variables.length - 1]!),
    dispose() {
      optimizer.dispose();
      network.dispose();
      tf.dispose([x, y]);
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

function seededLabels(batch: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const classes = Int32Array.from({ length: batch }, () => rng.int(0, CLASSES - 1));
  return tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), CLASSES) as tf.Tensor2D);
}

export interface StepAgreement {
  backend: BackendName;
  reference: BackendName;
  loss: { backend: number; reference: number; relativeError: number };
  /**
   * Per variable, the relative error of the update (new minus old value, batch-norm
   * moving statistics included) against the reference's: max |difference| over
   * max |reference update|. Comparing updates, not weights, keeps a wrong gradient from
   * hiding behind the unchanged bulk of the weights. Worst first.
   */
  updates: { name: string; relativeError: number }[];
}

/**
 * The same training step, from the same weights on the same batch, on `backend` and on
 * `reference`: how far the loss and each variable's update disagree.
 */
export async function compareTrainingStep(
  options: TrainingStepOptions & { backend: BackendName; reference: BackendName },
): Promise<StepAgreement> {
  const run = async (backend: BackendName) => {
    await useBackend(backend);
    const fixture = trainingStepFixture({ ...options, learningRate: options.learningRate ?? 0.1 });
    const read = async () => {
      const values = new Map<string, Float32Array>();
      for (const [name, v] of fixture.network.variables) {
        values.set(name, (await v.data()) as Float32Array);
      }
      return values;
    };
    const before = await read();
    const loss = fixture.step();
    const lossValue = (await loss.data())[0]!;
    loss.dispose();
    const after = await read();
    fixture.dispose();
    const updates = new Map(
      [...after].map(([name, w]) => {
        const old = before.get(name)!;
        return [name, w.map((value, i) => value - old[i]!)];
      }),
    );
    return { loss: lossValue, updates };
  };
  const expected = await run(options.reference);
  const actual = await run(options.backend);
  const updates = [...expected.updates]
    .map(([name, update]) => ({
      name,
      relativeError: relativeError(actual.updates.get(name)!, update),
    }))
    .sort((a, b) => b.relativeError - a.relativeError);
  return {
    backend: options.backend,
    reference: options.reference,
    loss: {
      backend: actual.loss,
      reference: expected.loss,
      relativeError: Math.abs(actual.loss - expected.loss) / Math.abs(expected.loss),
    },
    updates,
  };
}
