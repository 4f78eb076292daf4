import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment, readExperiment } from '../src/config/load.js';
import { ConfigError } from '../src/config/source.js';
import { runId } from '../src/run-id.js';
import { describeTestDataset } from './fixtures/datasets.js';

const experimentsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../experiments',
);

describe('training options added after the first stores', () => {
  // The first runs of experiments/cifar10-resnet56.yaml (prunefuse p = 0.5, least
  // confidence, seeds 0, 1, 2), with the ids they had before nesterov, one-cycle and
  // translation existed.
  const cifar10 = expandSweep(
    readExperiment(path.join(experimentsDir, 'cifar10-resnet56.yaml')),
    describeTestDataset,
  ).runs;
  const withTraining = (training: Partial<RunConfig['targetTraining']>): RunConfig => ({
    ...cifar10[0]!.config,
    selectorTraining: { ...cifar10[0]!.config.selectorTraining, ...training },
    targetTraining: { ...cifar10[0]!.config.targetTraining, ...training },
  });

  it('keep the ids of existing runs: nesterov false hashes as if absent', () => {
    expect(cifar10.slice(0, 3).map((run) => run.id)).toEqual([
      '1a779e7f6dc5',
      'f3a85312c1d1',
      '4684fbfb8cbf',
    ]);
    expect(runId(withTraining({ nesterov: false }))).toBe('1a779e7f6dc5');
    const changed = [
      withTraining({ nesterov: true }),
      withTraining({ augment: { translate: 2, flip: false } }),
      withTraining({ schedule: 'one-cycle' }),
    ];
    for (const config of changed) expect(runId(config)).not.toBe('1a779e7f6dc5');
  });

  const experiment = (training: string) => `
dataset: fashion-mnist
arch: resnet20
methods: [random]
budget: { initial: 1000, milestones: [2000], roundSize: 1000 }
training:
${training}
`;
  const resolve = (training: string) =>
    expandSweep(parseExperiment('experiments/test.yaml', experiment(training)), describeTestDataset)
      .runs[0]!.config.targetTraining;

  it('resolve Nesterov, one-cycle and a translation without flips from the file', () => {
    expect(
      resolve('  nesterov: true\n  schedule: one-cycle\n  augment: { translate: 2 }'),
    ).toMatchObject({
      nesterov: true,
      schedule: 'one-cycle',
      augment: { translate: 2, flip: false },
    });
    expect(resolve('  augment: true').augment).toBe(true);
    expect(resolve('  augment: { translate: 4, flip: true }').augment).toEqual({
      translate: 4,
      flip: true,
    });
  });

  it('refuse a malformed augmentation with its field and what was expected', () => {
    const problems = (training: string): string[] => {
      try {
        resolve(training);
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
      throw new Error('expected the config to be rejected');
    };
    expect(problems('  augment: { translate: 1.5 }').join('\n')).toMatch(
      /training\.augment.*expected true, false or a mapping \{translate: pixels, flip: true or false\}/,
    );
    expect(problems('  augment: crop').join('\n')).toMatch(/training\.augment/);
    expect(problems('  nesterov: yes please').join('\n')).toMatch(
      /training\.nesterov.*expected true or false/,
    );
  });
});
