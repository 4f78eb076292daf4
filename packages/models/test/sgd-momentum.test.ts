import { selectBackend, sgdKernels, tf, useBackend } from '@prunefuse/engine';
import { beforeAll, describe, expect, test } from 'vitest';
import { SgdMomentum } from '../src/index.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** loss = Σ c·w, so the gradient is c whatever w is. */
function linearLoss(w: tf.Variable, c: number[]): () => tf.Scalar {
  return () => tf.sum(tf.mul(w, tf.tensor1d(c)));
}

describe('SgdMomentum', () => {
  test('steps as torch.optim.SGD: g += wd·w; v = m·v + g; w -= lr·v', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new SgdMomentum([w], { momentum: 0.9, weightDecay: 0.1 });
    const c = [0.5, 3];
    // Step 1, lr 0.1: g = c + 0.1·w = [0.6, 2.8]; v = g; w = [1 - 0.06, -2 - 0.28].
    tf.dispose(sgd.minimize(linearLoss(w, c), 0.1));
    expect(Array.from(w.dataSync())).toEqual([0.94, -2.28].map((v) => expect.closeTo(v, 6)));
    // Step 2, lr 0.01: g = c + 0.1·w = [0.594, 2.772]; v = 0.9·[0.6, 2.8] + g = [1.134, 5.292].
    tf.dispose(sgd.minimize(linearLoss(w, c), 0.01));
    expect(Array.from(w.dataSync())).toEqual(
      [0.94 - 0.01134, -2.28 - 0.05292].map((v) => expect.closeTo(v, 6)),
    );
    sgd.dispose();
    w.dispose();
  });

  test('without momentum or decay it is plain gradient descent', () => {
    const w = tf.variable(tf.tensor1d([1, 1]));
    const sgd = new SgdMomentum([w], { momentum: 0, weightDecay: 0 });
    for (let i = 0; i < 3; i++) tf.dispose(sgd.minimize(linearLoss(w, [1, -2]), 0.5));
    expect(Array.from(w.dataSync())).toEqual([1 - 1.5, 1 + 3]);
    sgd.dispose();
    w.dispose();
  });

  test('returns the loss before the update', async () => {
    const w = tf.variable(tf.tensor1d([2, 3]));
    const sgd = new SgdMomentum([w], { momentum: 0.5, weightDecay: 0 });
    const loss = sgd.minimize(linearLoss(w, [1, 1]), 0.1);
    expect(await loss.data()).toEqual(new Float32Array([5]));
    tf.dispose([loss, w]);
    sgd.dispose();
  });

  test('allocates nothing that outlives a step or the optimiser', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const initial = tf.memory().numTensors;
    const sgd = new SgdMomentum([w], { momentum: 0.9, weightDecay: 5e-4 });
    tf.dispose(sgd.minimize(linearLoss(w, [1, 2, 3]), 0.1));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(sgd.minimize(linearLoss(w, [1, 2, 3]), 0.1 / (i + 1)));
    expect(tf.memory().numTensors).toBe(before);
    sgd.dispose();
    expect(tf.memory().numTensors).toBe(initial);
    w.dispose();
  });

  test('refuses settings PyTorch would refuse', () => {
    expect(() => new SgdMomentum([], { momentum: 1, weightDecay: 0 })).toThrow(
      /momentum must be in \[0, 1\)/,
    );
    expect(() => new SgdMomentum([], { momentum: 0.9, weightDecay: -1 })).toThrow(/weightDecay/);
    expect(() => new SgdMomentum([], { momentum: 0, weightDecay: 0, nesterov: true })).toThrow(
      /nesterov needs a momentum > 0/,
    );
    const sgd = new SgdMomentum([], { momentum: 0.9, weightDecay: 0 });
    expect(() => sgd.minimize(() => tf.scalar(0), Number.NaN)).toThrow(
      /learning rate must be a finite number/,
    );
    sgd.dispose();
  });
});

// The composed tfjs ops (wasm) and the fused SGD kernels (webgpu: Dawn on a GPU, or Mesa's
// llvmpipe on a dev machine) take different paths through the Nesterov step.
const available = {
  wasm: true,
  webgpu: await useBackend('webgpu').then(
    () => true,
    () => false,
  ),
};

describe.each(['wasm', 'webgpu'] as const)('SgdMomentum on %s', (backend) => {
  test.skipIf(!available[backend])(
    `Nesterov steps as torch.optim.SGD(nesterov=True) on ${backend}: w -= lr·(g + m·v)`,
    async () => {
      await useBackend(backend);
      // loss = Σ ½·a·w², so g = a·w depends on w and a wrong look-ahead shows after one step.
      const a = [0.5, 3, -1.5];
      const start = [1, -2, 0.25];
      const rates = [0.1, 0.05, 0.2, 0.01, 0.1];
      const momentum = 0.9;
      const weightDecay = 0.05;
      const reference = start.map((w0, j) => {
        let w = w0;
        let v = 0;
        for (const lr of rates) {
          const g = a[j]! * w + weightDecay * w;
          v = momentum * v + g;
          w -= lr * (g + momentum * v);
        }
        return w;
      });
      const w = tf.variable(tf.tensor1d(start));
      const sgd = new SgdMomentum([w], { momentum, weightDecay, nesterov: true });
      const loss = (): tf.Scalar => tf.sum(tf.mul(tf.tensor1d(a), tf.mul(tf.square(w), 0.5)));
      for (const lr of rates) tf.dispose(sgd.minimize(loss, lr));
      // torch 1.13, float64: SGD([w], momentum=0.9, weight_decay=0.05, nesterov=True), the same
      // loss and learning rates set per step, gives these.
      expect(reference).toEqual(
        [0.3078489737336382, 0.8375464013535343, 1.1231870022668626].map((v) =>
          expect.closeTo(v, 12),
        ),
      );
      expect(Array.from(await w.data())).toEqual(reference.map((v) => expect.closeTo(v, 6)));
      expect(sgdKernels() !== null, 'fused SGD kernels exactly on webgpu').toBe(
        backend === 'webgpu',
      );
      sgd.dispose();
      w.dispose();
    },
  );
});
