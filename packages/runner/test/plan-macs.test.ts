import {
  labelledSizes,
  NOTHING_DONE,
  phaseAfterRun,
  planLeft,
  plannedExamples,
  planRun,
} from '@prunefuse/results';
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
    // Progress counts examples trained: epochs x labelled set, over every training.
    expect(plannedExamples(prunefuse)).toBe(3 * (100 + 200 + 300 + 400 + 450) + 5 * (200 + 450));
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

describe('what is left to compute', () => {
  const fused = pruneFuseWith(true, true).config;
  const scratch = pruneFuseWith(false, false).config;

  it('is the whole plan when nothing is done', () => {
    expect(planLeft(fused, 2000, NOTHING_DONE)).toEqual(planRun(fused, 2000));
  });

  it('leaves out the targets a checkpoint holds and the epochs saved of the training it was in', () => {
    const plan = planRun(fused, 2000);
    const inTarget = planLeft(fused, 2000, {
      phase: null,
      targets: 1,
      training: { network: 'target', labelled: 450, epochs: 2 },
    });
    expect(inTarget.targetTrainings).toEqual([{ labelled: 450, epochs: 3, distilled: true }]);
    expect(inTarget.selectorTrainings).toEqual(plan.selectorTrainings);
    const inSelector = planLeft(fused, 2000, {
      phase: null,
      targets: 0,
      training: { network: 'selector', labelled: 200, epochs: 1 },
    });
    expect(inSelector.selectorTrainings[1]).toEqual({ labelled: 200, epochs: 2 });
    expect(inSelector.selectorTrainings.toSpliced(1, 1)).toEqual(
      plan.selectorTrainings.toSpliced(1, 1),
    );
    // What a training that finished before the kill left (its target is saved), what the
    // rank-agreement measurement saved (no part of the plan), a key of an older format:
    // nothing to take off.
    for (const training of [
      { network: 'target', labelled: 200, epochs: 4 },
      { network: 'rank-agreement', labelled: 100, epochs: 3 },
      { network: 'target', labelled: null, epochs: 3 },
    ]) {
      expect(planLeft(fused, 2000, { phase: null, targets: 1, training })).toEqual({
        ...plan,
        targetTrainings: plan.targetTrainings.slice(1),
      });
    }
  });

  it('replays what a stored phase holds, as far as its rounds are the run’s', () => {
    const stored = phaseAfterRun(scratch, 2000, null)!;
    expect(stored).toEqual({
      rounds: [
        { labelled: 100, selected: 100 },
        { labelled: 200, selected: 100 },
        { labelled: 300, selected: 100 },
        { labelled: 400, selected: 50 },
      ],
      selectors: [100, 200, 300, 400],
    });
    // The fused run only lacks θp* on the last set.
    const left = planLeft(fused, 2000, { ...NOTHING_DONE, phase: stored });
    expect(left.selections).toEqual([]);
    expect(left.selectorTrainings).toEqual([{ labelled: 450, epochs: 3 }]);
    const extended = phaseAfterRun(fused, 2000, stored)!;
    expect(extended.selectors).toEqual([100, 200, 300, 400, 450]);
    // Storing adds nothing the stored phase holds already.
    expect(phaseAfterRun(scratch, 2000, extended)).toBe(extended);
    // Milestones 200 and 350 go 300 -> 350 where the stored round went 300 -> 400: the
    // selector on 300 is replayed (asked for before that round), the rest computed.
    const other = { ...fused, budget: { ...fused.budget, milestones: [200, 350] } };
    const diverging = planLeft(other, 2000, { ...NOTHING_DONE, phase: extended });
    expect(diverging.selections).toEqual([{ unlabelled: 1700, labelledEmbedded: 0 }]);
    expect(diverging.selectorTrainings).toEqual([{ labelled: 350, epochs: 3 }]);
    // A phase it does not extend stays as it was.
    expect(phaseAfterRun(other, 2000, extended)).toBe(extended);
  });

  it('dry-run rows: runs sharing a selection compute what the first of them leaves', () => {
    const rows = dryRunRows(runs, null, describeTestDataset, forward);
    expect(rows.slice(0, 4).map((r) => r.options)).toEqual([
      'p=0.5',
      'p=0.5 no-KD',
      'p=0.5 no-fusion',
      'p=0.5 no-fusion no-KD',
    ]);
    expect(rows[0]!.macsToCompute).toEqual(rows[0]!.estimatedMacs);
    for (const row of rows.slice(1, 4)) {
      const { targetTraining } = row.estimatedMacs;
      expect(row.macsToCompute).toEqual({
        selectorTraining: 0,
        poolScoring: 0,
        targetTraining,
        total: targetTraining,
      });
    }
    for (const row of rows.slice(4)) expect(row.macsToCompute).toEqual(row.estimatedMacs);
  });
});
