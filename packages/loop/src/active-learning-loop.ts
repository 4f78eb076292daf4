import { type Dataset, initialLabelledSet, LabelledPool, orderedBatches } from '@prunefuse/data';
import { deriveSeed, Rng } from '@prunefuse/engine';
import { buildNetwork, countMacs, type ModelSpec, type Network } from '@prunefuse/models';
import {
  type AcquisitionName,
  type BudgetConfig,
  inferenceMacs,
  type MacsByPhase,
  labelledSetDigest,
  type RoundRecord,
  type RunEvent,
  type SavedTarget,
  type SelectionPhase,
  type TargetRecord,
  type TrainedNetwork,
  type TrainingConfig,
  trainingKeyText,
} from '@prunefuse/results';
import { acquire, leastConfidence, spearman, topKOverlap } from '@prunefuse/selection';
import { divergence } from './divergence.js';
import { FrozenWeights } from './frozen-weights.js';
import type { AsyncMethodFactory, Method, MethodFactory } from './method.js';
import { SelectionMemo } from './selection-memo.js';
import {
  type TrainingCheckpoints,
  type TrainingOutcome,
  trainOnLabelled,
} from './train-on-labelled.js';
import { CompiledTrainers, predict } from './training/index.js';

export interface LoopSetup {
  dataset: Dataset;
  /** θ's architecture; θ is built from it with the run's seed. */
  targetSpec: ModelSpec;
  budget: BudgetConfig;
  acquisition: AcquisitionName;
  targetTraining: TrainingConfig;
  /**
   * Also train θ itself each round and compare its uncertainty ranking of the pool with
   * the selector's (Spearman, top-k overlap). Measurement only: its MACs and time are
   * recorded with the measurement, never charged to the method.
   */
  rankAgreement: boolean;
  seed: number;
  /** Batch size for pool scoring and test evaluation (inference only). */
  inferenceBatchSize: number;
  /**
   * The stored selection phase of a run whose selection is this run's (see SelectionMemo):
   * its rounds and selectors are replayed, not computed, and charged what they cost then.
   */
  storedSelection?: SelectionPhase | null;
  /**
   * The targets an interrupted attempt of this run built, in milestone order (its
   * checkpoint): each is replayed at its milestone, when this run's labelled set there is
   * the one it was trained on, instead of trained, and charged what it cost then. Sound
   * because nothing a target's training does reaches a later milestone: every random
   * stream is derived by name from the seed, every network built fresh.
   */
  builtTargets?: readonly SavedTarget[];
  onEvent?: (event: RunEvent) => void;
  /**
   * Called whenever the run has computed something an interrupted attempt would resume
   * from (see LoopCheckpoint); never for what it replayed, which is saved already. The
   * caller saves it (see the runner).
   */
  onCheckpoint?: (checkpoint: LoopCheckpoint) => void;
  /**
   * Where every training of the run saves its state after each epoch, so that a killed
   * attempt resumes the training it was in from its last epoch (a long one, such as the
   * full-data target, may take longer than an attempt lives).
   */
  trainingCheckpoints?: TrainingCheckpoints;
}

/**
 * What a run has finished so far, for a later attempt to resume from: the selection phase
 * so far, after each selector trained and each round a selector computed; the targets
 * built so far (replayed ones included), after each target trained.
 */
export type LoopCheckpoint =
  | { kind: 'selection'; selection: SelectionPhase }
  | { kind: 'targets'; targets: readonly SavedTarget[] };

export interface LoopOutcome {
  initialLabelled: number[];
  rounds: RoundRecord[];
  targets: TargetRecord[];
  macs: MacsByPhase;
  params: { targetSpec: ModelSpec; selectorSpec: ModelSpec | null };
  /** What the selection rounds labelled and every selector they trained; null without a selector. */
  selection: SelectionPhase | null;
  /** Labelled-set sizes of the targets replayed from builtTargets rather than trained. */
  replayedTargets: number[];
}

interface TrainedSelector extends TrainingOutcome {
  network: Network;
  /** Labelled-set size it was trained on. */
  labelled: number;
}

/**
 * The active-learning loop every method shares. From a seeded initial set s0, each round
 * retrains the method's selector from scratch on the labelled set, scores the unlabelled
 * pool with it and labels the k it ranks highest; at each budget milestone the method
 * builds its target on the labelled set, which is then measured on the test split.
 */
export async function activeLearningLoop(
  setup: LoopSetup,
  makeMethod: MethodFactory | AsyncMethodFactory,
): Promise<LoopOutcome> {
  const { dataset, budget } = setup;
  checkBudget(budget, dataset.train.size);
  const rng = new Rng(setup.seed);
  const pool = new LabelledPool(dataset.train.size);
  const initial = initialLabelledSet(dataset.train.labels, budget.initial, rng.child('initial'), {
    classBalanced: budget.classBalancedInitial,
  });
  pool.label(initial);

  const dense = buildNetwork(setup.targetSpec, deriveSeed(setup.seed, 'target-init'));
  const denseInitial = FrozenWeights.of(dense);
  const method = await makeMethod({ dense, dataset, initialLabelled: initial, seed: setup.seed });
  if (!method.selector && setup.acquisition !== 'random') {
    throw new Error(
      `method '${method.name}' has no selector model, so it cannot use acquisition '${setup.acquisition}'`,
    );
  }
  const spent = new MacsLedger();
  const memo = new SelectionMemo(setup.storedSelection ?? null, initial);
  // Rounds retrain and score the same architectures: their compiled webgpu trainers are
  // kept for the whole run and destroyed at its end.
  const trainers = new CompiledTrainers();
  const rounds: RoundRecord[] = [];
  const targets: TargetRecord[] = [];
  const replayedTargets: number[] = [];
  const savedTargets: SavedTarget[] = [];
  const checkpointSelection = () =>
    setup.onCheckpoint?.({ kind: 'selection', selection: memo.phase() });

  const trainSelector = async (): Promise<TrainedSelector> => {
    const definition = method.selector!;
    const labelled = pool.labelled();
    const stored = memo.storedSelector(definition.spec, labelled.length);
    if (stored) {
      await memo.recordSelector(labelled.length, stored, stored.network);
      spent.charge('selectorTraining', stored.macs);
      return { ...stored, labelled: labelled.length };
    }
    const network = definition.fresh();
    const train = trainOnLabelled({
      dataset,
      labelled,
      training: definition.training,
      rng: rng.child('selector', labelled.length),
      evalBatchSize: setup.inferenceBatchSize,
      trainers,
      ...trainingCheckpoint(setup, 'selector', labelled),
      onEpoch: (epoch) =>
        setup.onEvent?.({
          type: 'epoch',
          phase: 'selector',
          labelled: labelled.length,
          totalEpochs: definition.training.epochs,
          epoch,
        }),
    });
    try {
      const outcome = await train(network);
      await memo.recordSelector(labelled.length, outcome, network);
      spent.charge('selectorTraining', outcome.macs);
      checkpointSelection();
      return { ...outcome, network, labelled: labelled.length };
    } catch (error) {
      network.dispose();
      throw error;
    }
  };

  const selectors = new SelectorForLabelledSet(
    method.selector ? trainSelector : null,
    () => pool.labelledCount,
  );

  try {
    for (const milestone of budget.milestones) {
      while (pool.labelledCount < milestone) {
        const k = Math.min(budget.roundSize, milestone - pool.labelledCount);
        const current = await selectors.current();
        rounds.push(
          await selectionRound(
            { setup, pool, method, denseInitial, rng, spent, memo, trainers },
            {
              k,
              round: rounds.length,
              current,
            },
          ),
        );
        setup.onEvent?.({ type: 'round', round: withoutEpochs(rounds.at(-1)!) });
        // A selector's round is new to the phase unless it was replayed from it; a random
        // round is no part of it (it is drawn again from the seed).
        if (method.selector && !memo.replaying) checkpointSelection();
      }
      const labelledSet = labelledSetDigest(pool.labelled());
      const saved = setup.builtTargets?.[targets.length];
      const replayed = saved?.labelledSet === labelledSet ? saved.record : null;
      // A replayed target that used θp* asks for it as its training did, so that the
      // selector is obtained (and charged) at the same point of the run.
      if (replayed?.selectorAccuracy !== undefined) await selectors.current();
      const target =
        replayed ??
        (await buildTarget(
          { setup, pool, method, denseInitial, rng, spent, memo, trainers },
          selectors,
        ));
      spent.charge('targetTraining', target.macs);
      targets.push(target);
      savedTargets.push({ labelledSet, record: target });
      setup.onEvent?.({ type: 'target', target: withoutEpochs(target) });
      if (replayed) replayedTargets.push(replayed.labelled);
      else setup.onCheckpoint?.({ kind: 'targets', targets: savedTargets });
    }
  } finally {
    selectors.dispose();
    method.dispose();
    dense.dispose();
    denseInitial.dispose();
    trainers.clear();
  }
  return {
    initialLabelled: Array.from(initial),
    rounds,
    targets,
    macs: spent.totals(),
    params: { targetSpec: setup.targetSpec, selectorSpec: method.selector?.spec ?? null },
    selection: method.selector ? memo.phase() : null,
    replayedTargets,
  };
}

/**
 * The MACs a run spends, by phase, each charged once where it is spent (the cost model's
 * formulas are in @prunefuse/results).
 */
class MacsLedger {
  private readonly spent = { selectorTraining: 0, poolScoring: 0, targetTraining: 0 };

  charge(phase: keyof MacsLedger['spent'], macs: number): void {
    this.spent[phase] += macs;
  }

  totals(): MacsByPhase {
    const { selectorTraining, poolScoring, targetTraining } = this.spent;
    return {
      selectorTraining,
      poolScoring,
      targetTraining,
      total: selectorTraining + poolScoring + targetTraining,
    };
  }
}

/** What every step of one run shares. */
interface RunState {
  setup: LoopSetup;
  pool: LabelledPool;
  method: Method;
  /** θ in its initial state, for the rank-agreement reference. */
  denseInitial: FrozenWeights;
  rng: Rng;
  spent: MacsLedger;
  memo: SelectionMemo;
  trainers: CompiledTrainers;
}

/**
 * The selector trained from scratch on the current labelled set, trained when first asked
 * for: every round asks; a milestone's target asks only when its method uses θp*
 * (PruneFuse), so the baselines are not charged for a selector nobody uses. The one
 * trained for a milestone's target is the next round's selector.
 */
class SelectorForLabelledSet {
  private trained: TrainedSelector | null = null;

  constructor(
    private readonly train: (() => Promise<TrainedSelector>) | null,
    private readonly labelledCount: () => number,
  ) {}

  /** The selector for the current labelled set, and whether this call trained it. */
  async current(): Promise<{ selector: TrainedSelector; trainedNow: boolean } | null> {
    if (!this.train) return null;
    if (this.trained?.labelled === this.labelledCount()) {
      return { selector: this.trained, trainedNow: false };
    }
    this.dispose();
    this.trained = await this.train();
    return { selector: this.trained, trainedNow: true };
  }

  dispose(): void {
    this.trained?.network.dispose();
    this.trained = null;
  }
}

async function selectionRound(
  state: RunState,
  round: {
    /** Examples to label this round. */
    k: number;
    round: number;
    /** The selector for the current labelled set, and whether this round trained it. */
    current: { selector: TrainedSelector; trainedNow: boolean } | null;
  },
): Promise<RoundRecord> {
  const { setup, pool, rng } = state;
  const { dataset } = setup;
  const { k, current } = round;
  const selector = current?.selector ?? null;
  const labelledBefore = pool.labelledCount;
  const unlabelled = pool.unlabelled();
  const started = performance.now();
  const stored = selector ? state.memo.storedRound(round.round, labelledBefore, k) : null;
  /** Positions in `unlabelled` of the examples chosen, unless replayed. */
  let positions: Int32Array | null = null;
  let scoringMacs = 0;
  if (stored) {
    // Replayed: what the stored run selected from this very pool, at what it cost then.
    scoringMacs = stored.poolScoringMacs;
  } else if (!selector) {
    positions = await acquire(
      'random',
      { poolSize: unlabelled.length },
      k,
      rng.child('random', round.round),
    );
  } else {
    const wantsFeatures = setup.acquisition === 'k-centers';
    const inOrder = (indices: Int32Array) =>
      orderedBatches(dataset.train, indices, { batchSize: setup.inferenceBatchSize, dataset });
    const scored = await predict(
      selector.network,
      inOrder(unlabelled),
      wantsFeatures ? 'features' : 'probabilities',
      unlabelled.length,
      { trainers: state.trainers },
    );
    // k-centres embeds the labelled set too: its embeddings are the centres.
    const labelled = wantsFeatures
      ? await predict(selector.network, inOrder(pool.labelled()), 'features', pool.labelledCount, {
          trainers: state.trainers,
        })
      : null;
    scoringMacs = inferenceMacs({
      examples: unlabelled.length + (labelled ? pool.labelledCount : 0),
      forwardMacs: countMacs(selector.network.spec),
    });
    positions = await acquire(
      setup.acquisition,
      {
        poolSize: unlabelled.length,
        probabilities: scored.probabilities ?? undefined,
        classes: dataset.classes,
        embeddings: scored.features ?? undefined,
        labelledEmbeddings: labelled?.features ?? undefined,
        dim: scored.featureDim,
      },
      k,
      rng.child('acquire', round.round),
    );
  }
  const selectionSeconds = stored?.selectionSeconds ?? (performance.now() - started) / 1000;
  const rankAgreement =
    selector && setup.rankAgreement ? await rankAgreementWithTarget(state, selector, k) : undefined;
  const selected = positions ? Array.from(positions, (p) => unlabelled[p]!) : [...stored!.selected];
  pool.label(selected);
  state.spent.charge('poolScoring', scoringMacs);
  if (selector) {
    state.memo.recordRound({
      labelled: labelledBefore,
      selected,
      selectionSeconds,
      poolScoringMacs: scoringMacs,
    });
  }
  return {
    round: round.round,
    labelled: labelledBefore,
    selectorAccuracy: selector?.accuracy ?? null,
    selectorLoss: selector?.loss ?? null,
    trainSeconds: current?.trainedNow ? current.selector.trainSeconds : 0,
    selectionSeconds,
    macs: {
      selectorTraining: current?.trainedNow ? current.selector.macs : 0,
      poolScoring: scoringMacs,
    },
    selected,
    epochs: selector?.epochs ?? [],
    ...(rankAgreement ? { rankAgreement } : {}),
  };
}

/**
 * Open question 4 of the paper: does the selector rank the pool as θ itself would?
 * θ is trained from scratch on the same labelled set with the selector's schedule; both
 * score the unlabelled pool by least confidence, and the rankings are compared.
 */
async function rankAgreementWithTarget(
  state: RunState,
  selector: TrainedSelector,
  k: number,
): Promise<NonNullable<RoundRecord['rankAgreement']>> {
  const { setup, pool, rng } = state;
  const { dataset } = setup;
  const labelled = pool.labelled();
  const unlabelled = pool.unlabelled();
  const started = performance.now();
  const reference = state.denseInitial.network();
  try {
    const trained = await trainOnLabelled({
      dataset,
      labelled,
      training: state.method.selector!.training,
      rng: rng.child('rank-agreement', labelled.length),
      evalBatchSize: setup.inferenceBatchSize,
      trainers: state.trainers,
      ...trainingCheckpoint(setup, 'rank-agreement', labelled),
    })(reference);
    const score = async (network: Network) => {
      const batches = orderedBatches(dataset.train, unlabelled, {
        batchSize: setup.inferenceBatchSize,
        dataset,
      });
      const { probabilities } = await predict(
        network,
        batches,
        'probabilities',
        unlabelled.length,
        {
          trainers: state.trainers,
        },
      );
      return leastConfidence(probabilities!, dataset.classes);
    };
    const selectorScores = await score(selector.network);
    const referenceScores = await score(reference);
    const scoringMacs = [selector.network, reference].reduce(
      (total, network) =>
        total +
        inferenceMacs({ examples: unlabelled.length, forwardMacs: countMacs(network.spec) }),
      0,
    );
    return {
      spearman: spearman(selectorScores, referenceScores),
      topKOverlap: topKOverlap(selectorScores, referenceScores, k),
      k,
      seconds: (performance.now() - started) / 1000,
      macs: trained.macs + scoringMacs,
    };
  } finally {
    reference.dispose();
  }
}

async function buildTarget(
  state: RunState,
  selectors: SelectorForLabelledSet,
): Promise<TargetRecord> {
  const { setup, pool, method, denseInitial, rng } = state;
  const { dataset } = setup;
  const labelled = pool.labelled();
  let selectorTrainingMacs = 0;
  let selectorAccuracy: number | undefined;
  const built = await method.buildTarget({
    labelled,
    trainedSelector: async () => {
      const current = await selectors.current();
      if (!current) throw new Error(`method '${method.name}' has no selector to hand its target`);
      if (current.trainedNow) selectorTrainingMacs += current.selector.macs;
      selectorAccuracy = current.selector.accuracy;
      return current.selector.network;
    },
    freshTarget: () => denseInitial.network(),
    train: trainOnLabelled({
      dataset,
      labelled,
      training: setup.targetTraining,
      rng: rng.child('target', labelled.length),
      evalBatchSize: setup.inferenceBatchSize,
      trainers: state.trainers,
      ...trainingCheckpoint(setup, 'target', labelled),
      onEpoch: (epoch) =>
        setup.onEvent?.({
          type: 'epoch',
          phase: 'target',
          labelled: labelled.length,
          totalEpochs: setup.targetTraining.epochs,
          epoch,
        }),
    }),
  });
  built.network.dispose();
  const diverged = divergence(built, { classes: dataset.classes, size: dataset.test.size });
  return {
    labelled: labelled.length,
    fraction: labelled.length / dataset.train.size,
    accuracy: built.accuracy,
    loss: built.loss,
    init: built.init,
    kd: built.kd,
    trainSeconds: built.trainSeconds,
    macs: built.macs,
    selectorTrainingMacs,
    ...(selectorAccuracy === undefined ? {} : { selectorAccuracy }),
    epochs: built.epochs,
    ...(diverged ? { diverged } : {}),
  };
}

/**
 * The checkpoint of one training of the run: named by which network trains (the
 * selector, the target, or θ for the rank-agreement measurement) and on which labelled
 * set, which within a run determines the training entirely.
 */
function trainingCheckpoint(setup: LoopSetup, network: TrainedNetwork, labelled: Int32Array) {
  const checkpoints = setup.trainingCheckpoints;
  if (!checkpoints) return {};
  const key = trainingKeyText({
    network,
    labelled: labelled.length,
    labelledSet: labelledSetDigest(labelled),
  });
  return { checkpoint: { checkpoints, key } };
}

function checkBudget(budget: BudgetConfig, trainSize: number): void {
  const { initial, milestones, roundSize } = budget;
  const problems: string[] = [];
  if (!Number.isInteger(initial) || initial < 1)
    problems.push(`initial ${initial} is not a positive count`);
  if (!Number.isInteger(roundSize) || roundSize < 1)
    problems.push(`roundSize ${roundSize} is not a positive count`);
  if (milestones.length === 0) problems.push('there are no milestones');
  let previous = initial;
  for (const milestone of milestones) {
    if (!Number.isInteger(milestone) || milestone < previous) {
      problems.push(
        `milestone ${milestone} is below ${previous} (milestones ascend from the initial set)`,
      );
    }
    previous = milestone;
  }
  if (previous > trainSize)
    problems.push(`milestone ${previous} exceeds the training split's ${trainSize}`);
  if (problems.length > 0) throw new Error(`invalid budget: ${problems.join('; ')}`);
}

function withoutEpochs<T extends { epochs: unknown }>(record: T): Omit<T, 'epochs'> {
  const { epochs: _epochs, ...rest } = record;
  return rest;
}
