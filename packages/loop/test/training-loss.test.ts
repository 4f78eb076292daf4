import { selectBackend, tf } from '@prunefuse/engine';
import { beforeAll, describe, expect, test } from 'vitest';
import { crossEntropy, distillationLoss } from '../src/index.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const STUDENT = [
  [2, 0, -1],
  [0.5, 1.5, 0],
];
const TEACHER = [
  [1, 1, 3],
  [-2, 4, 0],
];
const LABELS = [0, 1];

function logSoftmax(row: number[], temperature = 1): number[] {
  const scaled = row.map((z) => z / temperature);
  const max = Math.max(...scaled);
  const logSum = max + Math.log(scaled.reduce((s, z) => s + Math.exp(z - max), 0));
  return scaled.map((z) => z - logSum);
}

/** λ·CE + (1-λ)·T²·KL(p_t || p_s), written out in float64 from the definition. */
function handComputed(lambda: number, temperature: number): number {
  let total = 0;
  STUDENT.forEach((student, i) => {
    const ce = -logSoftmax(student)[LABELS[i]!]!;
    const logPt = logSoftmax(TEACHER[i]!, temperature);
    const logPs = logSoftmax(student, temperature);
    const kl = logPt.reduce((s, lp, c) => s + Math.exp(lp) * (lp - logPs[c]!), 0);
    total += lambda * ce + (1 - lambda) * temperature * temperature * kl;
  });
  return total / STUDENT.length;
}

async function value(f: () => tf.Scalar): Promise<number> {
  const t = f();
  const [v] = await t.data();
  t.dispose();
  return v!;
}

const tensors = () => ({
  student: tf.tensor2d(STUDENT),
  teacher: tf.tensor2d(TEACHER),
  labels: tf.tensor1d(LABELS, 'int32'),
});

describe('losses', () => {
  test('cross-entropy is the batch mean of -log softmax at the label', async () => {
    const { student, teacher, labels } = tensors();
    const expected = (-logSoftmax(STUDENT[0]!)[0]! - logSoftmax(STUDENT[1]!)[1]!) / 2;
    expect(await value(() => crossEntropy(student, labels))).toBeCloseTo(expected, 5);
    tf.dispose([student, teacher, labels]);
  });

  test.each([
    [0.5, 4],
    [0.3, 2],
    [0, 1],
    [0.9, 10],
  ])(
    'distillation with λ = %s, T = %s matches the hand-computed value',
    async (lambda, temperature) => {
      const { student, teacher, labels } = tensors();
      const loss = await value(() =>
        distillationLoss(student, teacher, labels, lambda, temperature),
      );
      expect(loss).toBeCloseTo(handComputed(lambda, temperature), 5);
      tf.dispose([student, teacher, labels]);
    },
  );

  test('λ = 1 is cross-entropy alone; a teacher equal to the student adds nothing', async () => {
    const { student, teacher, labels } = tensors();
    const ce = await value(() => crossEntropy(student, labels));
    expect(await value(() => distillationLoss(student, teacher, labels, 1, 4))).toBeCloseTo(ce, 6);
    expect(await value(() => distillationLoss(student, student, labels, 0.5, 4))).toBeCloseTo(
      ce / 2,
      6,
    );
    tf.dispose([student, teacher, labels]);
  });

  test('refuses λ outside [0, 1], T <= 0 and mismatched shapes or labels', () => {
    const { student, teacher, labels } = tensors();
    expect(() => distillationLoss(student, teacher, labels, 1.5, 4)).toThrow(
      /lambda must be in \[0, 1\]/,
    );
    expect(() => distillationLoss(student, teacher, labels, 0.5, 0)).toThrow(/temperature/);
    const wide = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => distillationLoss(student, wide, labels, 0.5, 4)).toThrow(/same shape/);
    const floatLabels = tf.tensor1d([0, 1]);
    expect(() => crossEntropy(student, floatLabels)).toThrow(/labels must be int32 \[2\]/);
    tf.dispose([student, teacher, labels, wide, floatLabels]);
  });
});
