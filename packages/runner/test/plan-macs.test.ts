import { labelledSizes, planRun, plannedEpochs } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { dryRunRows, formatMacs } from '../src/dry-run.js';
import { countForwardMacs, estimateMacs, type ForwardMacs } from '../src/macs-estimate.js';
import { describeTestDataset } from './fixtures/datasets.js';

const CONFIG = `
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet56
methods:
  - name: prunefuse
    prune: 0.5
    fusion: [true, false]
    kd: [true, false]
  - name: svp
    proxyArch: resnet20
    proxyEpochs: 2
  - active-learning
  - random
  - full
budget: { initial: 100, milestones: [200, 450], roundSize: 100 }
selectorTraining: { epochs: 3 }
targetTraining: { epochs: 5 }
`;

/** Stand-in costs: 1000 MACs for resnet56, 100 for resnet20; pruning by p scales by (1-p)^2. */
const forward: ForwardMacs = (arch, prune) =>
  (arch === 'resnet56' ? 1000 : 100) * (1 - (prune ?? 0)) ** 2;

const runs = expandSweep(parseExperiment('plan.yaml', CONFIG), describeTestDataset).runs;
const byMethod = (name: string) => runs.find((r) => r.config.method.name === name)!;
const pruneFuseWith = (fusion: boolean, kd: boolean) =>
  runs.find(
    ({ config: { method } }) =>
      method.name === 'prunefuse' && method.fusion === fusion && method.kd === kd,
  )!;
const facts = describeTestDataset('mnist');

describe('run plan', () => {
  it('grows the labelled set by roundSize, stopping at every milestone', () => {
    expect(labelledSizes(byMethod('prunefuse').config)).toEqual([100, 200, 300, 400, 450]);
  });

  it('trains the selector every round, and PruneFuse once more on the final set to fuse it', () => {
    const prunefuse = planRun(byMethod('prunefuse').config, 2000);
    expect(prunefuse.selectorTrainings.map((s) => s.labelled)).toEqual([100, 200, 300, 400, 450]);
    expect(prunefuse.selections.map((s) => s.unlabelled)).toEqual([1900, 1800, 1700, 1600]);
    expect(prunefuse.selections.every((s) => s.labelledEmbedded === 0)).toBe(true);
    // θp* on the final set only when the target uses it: fused or distilled from.
    const lastTrained = (fusion: boolean, kd: boolean) =>
      planRun(pruneFuseWith(fusion, kd).config, 2000).selectorTrainings.at(-1)!.labelled;
    expect([lastTrained(true, false), lastTrained(false, true), lastTrained(false, false)]).toEqual(
      [450, 450, 400],
    );
    expect(prunefuse.targetTrainings).toEqual([
      { labelled: 200, epochs: 5, distilled: true },
      { labelled: 450, epochs: 5, distilled: true },
    ]);
    const svp = planRun(byMethod('svp').config, 2000);
    expect(svp.selectorTrainings).toEqual(
      [100, 200, 300, 400].map((labelled) => ({ labelled, epochs: 2 })),
    );
    expect(planRun(byMethod('random').config, 2000).selectorTrainings).toEqual([]);
    expect(planRun(byMethod('full').config, 2000).targetTrainings).toEqual([
      { labelled: 2000, epochs: 5, distilled: false },
    ]);
    expect(plannedEpochs(prunefuse)).toBe(5 * 3 + 2 * 5);
  });
});

describe('MAC estimate', () => {
  it('is epochs x examples x 3 x forward MACs, plus pool scoring and the KD teacher', () => {
    const run = byMethod('prunefuse');
    const macs = estimateMacs(run.config, 2000, facts, forward);
    // θp at p = 0.5 costs 250 MACs forward
    expect(macs.selectorTraining).toBe(3 * (100 + 200 + 300 + 400 + 450) * 3 * 250);
    expect(macs.poolScoring).toBe((1900 + 1800 + 1700 + 1600) * 250);
    expect(macs.targetTraining).toBe(5 * (200 + 450) * (3 * 1000 + 250));
    expect(macs.total).toBe(macs.selectorTraining + macs.poolScoring + macs.targetTraining);

    const svp = byMethod('svp');
    const svpMacs = estimateMacs(svp.config, 2000, facts, forward);
    expect(svpMacs.selectorTraining).toBe(2 * 1000 * 3 * 100);
    expect(svpMacs.targetTraining).toBe(5 * 650 * 3 * 1000);

    const al = byMethod('active-learning');
    expect(estimateMacs(al.config, 2000, facts, forward).poolScoring).toBe(7000 * 1000);
    // k-centres also embeds the labelled set it measures distances to.
    const kCenters = { ...al.config, acquisition: 'k-centers' as const };
    expect(estimateMacs(kCenters, 2000, facts, forward).poolScoring).toBe(
      (7000 + 100 + 200 + 300 + 400) * 1000,
    );
  });

  it('counts forward MACs from the models package, pruned as PruneFuse prunes', () => {
    const dataset = { input: { height: 32, width: 32, channels: 3 }, classes: 10 };
    const dense = countForwardMacs('resnet56', null, dataset);
    // ResNet-56 at 32x32 is ~125 M MACs; halving every channel group leaves about a quarter
    expect(dense).toBeGreaterThan(120e6);
    expect(dense).toBeLessThan(130e6);
    const pruned = countForwardMacs('resnet56', 0.5, dataset);
    expect(pruned / dense).toBeGreaterThan(0.2);
    expect(pruned / dense).toBeLessThan(0.3);
  });

  it('dry-run rows carry options, status and the estimate; MACs print with SI prefixes', () => {
    const rows = dryRunRows(runs, null, describeTestDataset, forward);
    expect(rows[0]).toMatchObject({
      method: 'prunefuse',
      options: 'p=0.5',
      arch: 'resnet56',
      acquisition: 'least-confidence',
      seed: 0,
      milestones: [200, 450],
      status: 'pending',
    });
    expect(rows[4]!.options).toBe('resnet20 truncated 2 ep');
    expect(formatMacs(1_234_567_890)).toBe('1.23 G');
    expect(formatMacs(125e6)).toBe('125 M');
    expect(formatMacs(999)).toBe('999');
  });
});
