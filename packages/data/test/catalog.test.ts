import { describe, expect, it } from 'vitest';
import { DATASET_NAMES, datasetFacts, loadDataset } from '../src/index.js';

describe('datasetFacts', () => {
  it('agrees with what the embedded MNIST loader produces', async () => {
    const facts = datasetFacts('mnist');
    const dataset = await loadDataset('mnist', { seed: 0 });
    expect(facts).toEqual({
      trainSize: dataset.train.size,
      testSize: dataset.test.size,
      shape: dataset.shape,
      classes: dataset.classes,
    });
  });

  it('knows every dataset without reading files', () => {
    for (const name of DATASET_NAMES) {
      const facts = datasetFacts(name);
      expect(facts.trainSize).toBeGreaterThan(facts.testSize);
      expect(facts.classes).toBeGreaterThan(1);
    }
    expect(datasetFacts('cifar100').classes).toBe(100);
    expect(datasetFacts('tiny-imagenet')).toMatchObject({ trainSize: 100_000, classes: 200 });
  });
});
