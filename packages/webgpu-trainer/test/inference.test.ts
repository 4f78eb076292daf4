import { relativeError, tf, useBackend } from '@prunefuse/engine';
import { architecture, initialWeights, networkFromWeights } from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { compileTrainer, webgpuDevice } from '../src/index.js';
import { countTrainerBuffers, cpuInference, seededBatch, webgpuAvailable } from './reference.js';

const webgpu = await webgpuAvailable();
const INPUT = { height: 8, width: 8, channels: 3 };
const spec = architecture('resnet20', { input: INPUT, classes: 10 });
const optimizer = { momentum: 0.9, weightDecay: 5e-4 };

describe.skipIf(!webgpu)('compiled inference and memory', () => {
  it('gives the cpu backend logits and features, in batches with a partial last one', async () => {
    const examples = 5;
    const { images } = seededBatch(spec, examples, 9);
    const expected = await cpuInference(spec, initialWeights(spec, 2), images);

    await useBackend('webgpu');
    const network = networkFromWeights(spec, initialWeights(spec, 2));
    const trainer = await compileTrainer(spec, { batch: 4, optimizer });
    await trainer.uploadWeights(network);
    const predictions = await trainer.predict(images);
    trainer.dispose();
    network.dispose();
    expect(relativeError(predictions.logits, expected.logits)).toBeLessThan(1e-4);
    expect(relativeError(predictions.features, expected.features)).toBeLessThan(1e-4);
    for (let n = 0; n < examples; n++) {
      const row = predictions.logits.subarray(n * 10, n * 10 + 10);
      const top = Math.max(...row);
      const total = row.reduce((s, v) => s + Math.exp(v - top), 0);
      const softmax = row.map((v) => Math.exp(v - top) / total);
      expect(
        relativeError(predictions.probabilities.subarray(n * 10, n * 10 + 10), softmax),
      ).toBeLessThan(1e-5);
    }
  });

  it('downloads trained weights into the network and uploads them again from the GPU', async () => {
    await useBackend('webgpu');
    const network = networkFromWeights(spec, initialWeights(spec, 6));
    const trained = await compileTrainer(spec, { batch: 4, optimizer });
    await trained.uploadWeights(network);
    for (let s = 0; s < 3; s++) trained.step({ ...seededBatch(spec, 4, 20 + s), lr: 0.1 });
    const { images } = seededBatch(spec, 4, 30);
    const expected = await trained.predict(images);
    trained.downloadWeights(network);
    trained.dispose();
    // The network's variables now hold GPU data: this upload copies buffer to buffer.
    const reloaded = await compileTrainer(spec, { batch: 4, optimizer });
    await reloaded.uploadWeights(network);
    const actual = await reloaded.predict(images);
    reloaded.dispose();
    // The tfjs network agrees too (moving statistics included).
    const x = tf.tensor4d(images, [4, 8, 8, 3]);
    const output = network.apply(x, { training: false });
    const tfjsLogits = (await output.logits.data()) as Float32Array;
    tf.dispose([x, output.logits, output.features]);
    network.dispose();
    expect(actual.logits).toEqual(expected.logits);
    expect(relativeError(tfjsLogits, expected.logits)).toBeLessThan(1e-4);
  });

  it('frees every GPU buffer and tfjs tensor it made, round after round', async () => {
    await useBackend('webgpu');
    const counter = countTrainerBuffers(webgpuDevice());
    try {
      const network = networkFromWeights(spec, initialWeights(spec, 4));
      const tensors = tf.memory().numTensors;
      for (let round = 0; round < 2; round++) {
        const trainer = await compileTrainer(spec, { batch: 4, optimizer });
        expect(counter.live()).toBeGreaterThan(0);
        await trainer.uploadWeights(network);
        trainer.step({ ...seededBatch(spec, 4, 1), lr: 0.1 });
        trainer.step({ ...seededBatch(spec, 3, 2), lr: 0.1 });
        const metrics = await trainer.readMetrics();
        expect(metrics.examples).toBe(7);
        expect(Number.isFinite(metrics.loss)).toBe(true);
        await trainer.predict(seededBatch(spec, 6, 3).images);
        trainer.downloadWeights(network);
        trainer.dispose();
        expect(counter.live()).toBe(0);
        expect(tf.memory().numTensors).toBe(tensors);
      }
      network.dispose();
    } finally {
      counter.restore();
    }
  });
});
