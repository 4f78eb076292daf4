import { runBench, selectBackend, tf } from '@prunefuse/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataBenchCases } from '../src/index.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('dataBenchCases', () => {
  it('measures the augmented batch pipeline at CIFAR and MNIST shapes, in images/s', async () => {
    const before = tf.memory().numTensors;
    const rows = await runBench(dataBenchCases(), {
      backends: ['cpu'],
      timeMs: 20,
      iterations: 20,
    });
    expect(rows.map((r) => r.name)).toEqual([
      'data/batch-pipeline/cifar/128x32x32x3/crop-flip',
      'data/batch-pipeline/mnist/128x28x28x1/none',
    ]);
    for (const row of rows) {
      expect(row.opsPerSec).toBeGreaterThan(0);
      expect(row.imagesPerSec).toBeCloseTo(row.opsPerSec * 128, 6);
    }
    // More iterations than batches in an epoch: the case restarts its epoch cleanly.
    expect(rows[0]!.samples).toBeGreaterThan(16);
    expect(tf.memory().numTensors).toBe(before);
  });
});
