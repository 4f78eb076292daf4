import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AcquisitionName,
  type EpochRecord,
  type MethodConfig,
  ResultsStore,
  type RoundRecord,
  type RunRecord,
  type TargetRecord,
  type TrainingConfig,
} from '@prunefuse/results';

/**
 * Small, realistic RunRecords: the shape the active-learning loop writes, with MAC
 * counts that follow the accounting rules (3 MACs per forward MAC when training, pool
 * scoring one forward per unlabelled example, KD teacher forwards on the target) and
 * accuracies that rank the methods as the paper does, plus a little seed noise.
 */

const TRAIN_SIZE = 5000;
const TEST_SIZE = 1000;
const MILESTONES = [500, 1000, 1500];
const INITIAL = 250;
const ROUND_SIZE = 250;
const TARGET_MACS = 41e6;

const training = (epochs: number): TrainingConfig => ({
  epochs,
  batchSize: 128,
  lr: 0.1,
  schedule: 'svp-step',
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: true,
  evalEvery: 2,
});

export const METHODS = {
  prunefuse: (prune: number, options: Partial<Extract<MethodConfig, { name: 'prunefuse' }>> = {}) =>
    ({
      name: 'prunefuse',
      prune,
      criterion: 'magnitude',
      fusion: true,
      kd: true,
      fill: 'init',
      kdLambda: 0.5,
      kdTemperature: 4,
      ...options,
    }) satisfies MethodConfig,
  // The paper's SVP: a smaller architecture on the target's full schedule (12 epochs here).
  svp: (): MethodConfig => ({ name: 'svp', proxyArch: 'resnet8', proxyTraining: training(12) }),
  activeLearning: (): MethodConfig => ({ name: 'active-learning' }),
  random: (): MethodConfig => ({ name: 'random' }),
  full: (): MethodConfig => ({ name: 'full' }),
};

export interface FixtureRun {
  method: MethodConfig;
  seed: number;
  experiment?: string;
  dataset?: string;
  arch?: string;
  acquisition?: AcquisitionName;
  /** Points added to every target accuracy: a regression when negative. */
  accuracyShift?: number;
  /** The backend the run records (wasm by default). */
  backend?: 'wasm' | 'webgpu';
  /** Factor on every MAC count: added compute when above 1. */
  macsScale?: number;
  targetEpochs?: number;
  /** Record selector/full-model rank agreement each round. */
  rankAgreement?: boolean;
  /** A fused run also trains a from-scratch target at each milestone, for Figure 4. */
  scratchComparison?: boolean;
}

/** Deterministic noise in [-0.5, 0.5) points from the seed and a label. */
function noise(seed: number, label: string): number {
  let h = Math.imul(seed + 1, 0x9e3779b1);
  for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 2 ** 32 - 0.5;
}

function methodBonus(method: MethodConfig): number {
  switch (method.name) {
    case 'prunefuse':
      return 1.2 - (method.prune - 0.5) * 3 + (method.fusion ? 0.8 : 0) + (method.kd ? 0.4 : 0);
    case 'svp':
      return 1.5;
    case 'active-learning':
      return 2.6;
    default:
      return 0;
  }
}

function selectorMacsPerExample(method: MethodConfig): number | null {
  switch (method.name) {
    case 'prunefuse':
      return Math.round(TARGET_MACS * (1 - method.prune) ** 2);
    case 'svp':
      return 12e6;
    case 'active-learning':
      return TARGET_MACS;
    default:
      return null;
  }
}

function epochCurve(epochs: number, final: number, init: 'fused' | 'scratch'): EpochRecord[] {
  const rate = init === 'fused' ? 3 : 7;
  const start = init === 'fused' ? 0.3 : 0.85;
  return Array.from({ length: epochs }, (_, i) => {
    const epoch = i + 1;
    const accuracy = final * (1 - start * Math.exp(-epoch / rate));
    const evaluated = epoch % 2 === 0 || epoch === epochs;
    return {
      epoch,
      lr: 0.1,
      trainLoss: 2 * (1 - accuracy),
      trainAccuracy: Math.min(1, accuracy + 0.05),
      ...(evaluated ? { testAccuracy: accuracy, testLoss: 2.2 * (1 - accuracy) } : {}),
      seconds: 0.4,
    };
  });
}

export function fixtureRun(spec: FixtureRun): RunRecord {
  const { method, seed } = spec;
  const experiment = spec.experiment ?? 'quick';
  const dataset = spec.dataset ?? 'cifar10';
  const arch = spec.arch ?? 'resnet20';
  const acquisition = spec.acquisition ?? 'least-confidence';
  const scale = spec.macsScale ?? 1;
  const targetEpochs = spec.targetEpochs ?? 12;
  const selectorEpochs = method.name === 'svp' ? method.proxyTraining.epochs : 8;
  const selectorMacs = selectorMacsPerExample(method);
  const label = JSON.stringify(method);

  const accuracyAt = (labelled: number, bonus: number) =>
    (70 +
      20 * (1 - Math.exp(-labelled / 1500)) +
      bonus +
      noise(seed, `${label}${labelled}`) +
      (spec.accuracyShift ?? 0)) /
    100;

  const fused = method.name === 'prunefuse' && method.fusion;
  const kd = method.name === 'prunefuse' && method.kd;
  // As the loop does: a PruneFuse target that fuses or distils trains θp* on its milestone's
  // set and is charged for it; the round at that milestone then selects with it, uncharged.
  const targetUsesSelector = fused || kd;
  const selectorTrainingAt = (labelled: number) =>
    selectorMacs === null ? 0 : 3 * selectorEpochs * labelled * selectorMacs * scale;

  const rounds: RoundRecord[] = [];
  if (method.name !== 'full') {
    let next = 0;
    for (let labelled = INITIAL; labelled < MILESTONES.at(-1)!; labelled += ROUND_SIZE) {
      const selectorAccuracy = selectorMacs === null ? null : accuracyAt(labelled, -6);
      const trainedForTarget = targetUsesSelector && MILESTONES.includes(labelled);
      rounds.push({
        round: rounds.length,
        labelled,
        selectorAccuracy,
        selectorLoss: selectorAccuracy === null ? null : 2 * (1 - selectorAccuracy),
        trainSeconds: trainedForTarget || selectorMacs === null ? 0 : 1.5,
        selectionSeconds: 0.3,
        macs: {
          selectorTraining: trainedForTarget ? 0 : selectorTrainingAt(labelled),
          poolScoring: selectorMacs === null ? 0 : (TRAIN_SIZE - labelled) * selectorMacs * scale,
        },
        selected: Array.from({ length: ROUND_SIZE }, () => next++),
        epochs:
          selectorAccuracy === null ? [] : epochCurve(selectorEpochs, selectorAccuracy, 'scratch'),
        ...(spec.rankAgreement && method.name === 'prunefuse'
          ? {
              rankAgreement: {
                spearman: 0.95 - method.prune * 0.4 + noise(seed, `rank${labelled}`) * 0.05,
                topKOverlap: 0.8 - method.prune * 0.3,
                k: ROUND_SIZE,
                seconds: 1.5,
                macs: 8 * labelled * 3 * TARGET_MACS,
              },
            }
          : {}),
      });
    }
  }

  const targetAt = (labelled: number, init: 'fused' | 'scratch', bonus: number): TargetRecord => {
    const accuracy = accuracyAt(labelled, bonus);
    const teacher = kd && init === 'fused' ? targetEpochs * labelled * (selectorMacs ?? 0) : 0;
    return {
      labelled,
      fraction: labelled / TRAIN_SIZE,
      accuracy,
      loss: 2.2 * (1 - accuracy),
      init,
      kd: kd && init === 'fused',
      trainSeconds: 4,
      macs: (3 * targetEpochs * labelled * TARGET_MACS + teacher) * scale,
      selectorTrainingMacs:
        targetUsesSelector && init !== 'scratch' ? selectorTrainingAt(labelled) : 0,
      // θp*, a few points below a fused target: the pruned network is the weaker one.
      ...(targetUsesSelector && init !== 'scratch'
        ? { selectorAccuracy: accuracyAt(labelled, methodBonus(method) - 3) }
        : {}),
      epochs: epochCurve(targetEpochs, accuracy, init),
    };
  };
  const targets: TargetRecord[] =
    method.name === 'full'
      ? [targetAt(TRAIN_SIZE, 'scratch', 0)]
      : MILESTONES.flatMap((labelled) => [
          targetAt(labelled, fused ? 'fused' : 'scratch', methodBonus(method)),
          ...(spec.scratchComparison && fused
            ? [targetAt(labelled, 'scratch', methodBonus(method) - 1.1)]
            : []),
        ]);

  const selectorTraining =
    rounds.reduce((s, r) => s + r.macs.selectorTraining, 0) +
    targets.reduce((s, t) => s + t.selectorTrainingMacs, 0);
  const poolScoring = rounds.reduce((s, r) => s + r.macs.poolScoring, 0);
  const targetTraining = targets.reduce((s, t) => s + t.macs, 0);
  const slug = [
    method.name,
    method.name === 'prunefuse' ? `p${method.prune}` : '',
    acquisition,
    arch,
  ]
    .filter(Boolean)
    .join('-');
  return {
    schema: 1,
    id: `${experiment}-${dataset}-${slug}-${hash(label)}-s${seed}`,
    config: {
      experiment,
      dataset: {
        name: dataset,
        dataDir: null,
        trainSubset: TRAIN_SIZE,
        testSubset: TEST_SIZE,
        dataSeed: 0,
      },
      arch,
      method,
      acquisition,
      budget: {
        initial: INITIAL,
        milestones: MILESTONES,
        roundSize: ROUND_SIZE,
        classBalancedInitial: true,
      },
      selectorTraining: training(selectorEpochs),
      targetTraining: training(targetEpochs),
      rankAgreement: spec.rankAgreement ?? false,
      seed,
      backend: spec.backend ?? 'wasm',
    },
    environment: {
      backend: spec.backend ?? 'wasm',
      device: spec.backend === 'webgpu' ? 'llvmpipe (Vulkan)' : 'XNNPACK SIMD, 1 thread',
      versions: { tfjs: '4.22.0', node: 'v20.20.2', os: 'Linux 6.1.0 x64' },
      cpu: { model: 'Test CPU', cores: 2 },
      memoryGiB: 8,
      gitCommit: 'd85161a0000000000000000000000000000000ab',
    },
    startedAt: `2025-01-0${1 + (seed % 9)}T10:00:00.000Z`,
    finishedAt: `2025-01-0${1 + (seed % 9)}T10:05:00.000Z`,
    wallSeconds: 300 + seed,
    params: {
      target: 272474,
      selector: selectorMacs === null ? null : Math.round(272474 * (selectorMacs / TARGET_MACS)),
    },
    macsPerExample: { target: TARGET_MACS, selector: selectorMacs },
    trainSize: TRAIN_SIZE,
    testSize: TEST_SIZE,
    initialLabelled: Array.from({ length: INITIAL }, (_, i) => TRAIN_SIZE - 1 - i),
    rounds,
    targets,
    macs: {
      selectorTraining,
      poolScoring,
      targetTraining,
      total: selectorTraining + poolScoring + targetTraining,
    },
  };
}

function hash(text: string): string {
  let h = 0;
  for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h.toString(36);
}

/**
 * A small quick-style sweep: every method, two seeds, PruneFuse at three pruning ratios
 * with the no-KD and no-fusion ablations, fused-vs-scratch curves and rank agreement.
 */
export function fixtureSweep(
  overrides: Partial<FixtureRun> = {},
  seeds: readonly number[] = [0, 1],
): RunRecord[] {
  const methods: { method: MethodConfig; extra?: Partial<FixtureRun> }[] = [
    { method: METHODS.random() },
    { method: METHODS.activeLearning() },
    { method: METHODS.svp() },
    { method: METHODS.prunefuse(0.5), extra: { rankAgreement: true, scratchComparison: true } },
    { method: METHODS.prunefuse(0.7), extra: { rankAgreement: true } },
    { method: METHODS.prunefuse(0.8), extra: { rankAgreement: true } },
    { method: METHODS.prunefuse(0.5, { kd: false }) },
    { method: METHODS.prunefuse(0.5, { fusion: false }) },
    { method: METHODS.full() },
  ];
  return methods.flatMap(({ method, extra }) =>
    seeds.map((seed) => fixtureRun({ method, seed, ...extra, ...overrides })),
  );
}

/**
 * Two more KD settings of fixtureSweep's PruneFuse p=0.5 (λ 0.5, T 4): with it, a λ x T
 * grid of three settings.
 */
export function fixtureKdSettings(seeds: readonly number[] = [0, 1]): RunRecord[] {
  return [{ kdLambda: 0.9 }, { kdLambda: 0.9, kdTemperature: 1 }].flatMap((options) =>
    seeds.map((seed) => fixtureRun({ method: METHODS.prunefuse(0.5, options), seed })),
  );
}

/** Writes records into a fresh results store under the system temp directory. */
export function fixtureStore(records: readonly RunRecord[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'prunefuse-report-'));
  const store = ResultsStore.open(dir);
  for (const record of records) store.write(record);
  return dir;
}
