import { activeLearningMethod, fullDataMethod, randomMethod } from '@prunefuse/active-learning';
import { type Dataset, datasetFacts, loadDataset, parseDatasetName } from '@prunefuse/data';
import { type AsyncMethodFactory, activeLearningLoop, type MethodFactory } from '@prunefuse/loop';
import { architecture, countMacs, countParams } from '@prunefuse/models';
import { pruneFuseMethod } from '@prunefuse/prunefuse';
import type { RunConfig, RunRecord } from '@prunefuse/results';
import { svpMethod } from '@prunefuse/svp';
import type { DatasetFacts } from './config/expand.js';
import { selectionId } from './run-id.js';
import type { RunContext } from './sweep.js';

/** Batch size of pool scoring and test evaluation: inference only, so larger than training's. */
export const INFERENCE_BATCH_SIZE = 256;

/**
 * Executes one resolved run: loads its data, runs its method through the shared loop. A
 * selection phase stored by a run that selects alike (same selectionId) is replayed, and
 * this run's phase is offered to the store as it grows (after every selector and round),
 * so that the next run, or this run's next attempt after a kill, replays it. Likewise
 * each target built is saved to the run's checkpoint, and the targets of an interrupted
 * attempt's checkpoint are replayed rather than trained again.
 */
export async function executeRun(config: RunConfig, context: RunContext): Promise<RunRecord> {
  const startedAt = new Date();
  const started = performance.now();
  const dataset = await loadRunDataset(config);
  const targetSpec = architecture(config.arch, { input: dataset.shape, classes: dataset.classes });
  const { selections } = context;
  const selection = selections ? selectionId(config) : null;
  const stored = selection === null ? null : selections!.read(selection);
  const { checkpoints } = context;
  const resumable = checkpoints?.resumable ?? null;
  const outcome = await activeLearningLoop(
    {
      dataset,
      targetSpec,
      budget: config.budget,
      acquisition: config.acquisition,
      targetTraining: config.targetTraining,
      rankAgreement: config.rankAgreement,
      seed: config.seed,
      inferenceBatchSize: INFERENCE_BATCH_SIZE,
      storedSelection: stored?.phase ?? null,
      builtTargets: resumable?.targets ?? [],
      ...(checkpoints ? { trainingCheckpoints: checkpoints.training } : {}),
      onEvent: (event) => context.emit(event),
      // The phase is offered as it grows: the store keeps it where it extends the stored
      // one (a run whose rounds leave the stored ones is not stored over them).
      onCheckpoint: (checkpoint) => {
        if (checkpoint.kind === 'targets') checkpoints?.save(checkpoint.targets);
        // offer() writes only a phase that extends the stored one.
        else if (selection !== null) selections!.offer(selection, context.id, checkpoint.selection);
      },
    },
    methodFactory(config),
  );
  const { selectorSpec } = outcome.params;
  return {
    schema: 1,
    id: context.id,
    config,
    environment: context.environment,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - started) / 1000,
    params: {
      target: countParams(targetSpec),
      selector: selectorSpec ? countParams(selectorSpec) : null,
    },
    macsPerExample: {
      target: countMacs(targetSpec),
      selector: selectorSpec ? countMacs(selectorSpec) : null,
    },
    trainSize: dataset.train.size,
    testSize: dataset.test.size,
    initialLabelled: outcome.initialLabelled,
    rounds: outcome.rounds,
    targets: outcome.targets,
    macs: outcome.macs,
    ...(selection === null
      ? {}
      : { selection: { id: selection, replayedFrom: stored?.run ?? null } }),
    ...(resumable && outcome.replayedTargets.length > 0
      ? {
          resumed: {
            targets: outcome.replayedTargets,
            firstStartedAt: resumable.firstAttempt.startedAt,
            firstGitCommit: resumable.firstAttempt.gitCommit,
          },
        }
      : {}),
  };
}

/** The method of a run config, as a factory for the shared loop. */
export function methodFactory(config: RunConfig): MethodFactory | AsyncMethodFactory {
  const method = config.method;
  switch (method.name) {
    case 'prunefuse':
      return pruneFuseMethod({ ...method, selectorTraining: config.selectorTraining });
    case 'svp':
      return svpMethod({ proxyArch: method.proxyArch, proxyTraining: method.proxyTraining });
    case 'active-learning':
      return activeLearningMethod({ selectorTraining: config.selectorTraining });
    case 'random':
      return randomMethod();
    case 'full':
      return fullDataMethod();
  }
}

// Runs of a sweep mostly share their data: keep the last dataset loaded.
let lastDataset: { key: string; dataset: Promise<Dataset> } | null = null;

function loadRunDataset(config: RunConfig): Promise<Dataset> {
  const { name, dataDir, trainSubset, testSubset, dataSeed } = config.dataset;
  const key = JSON.stringify([name, dataDir, trainSubset, testSubset, dataSeed]);
  if (lastDataset?.key !== key) {
    const dataset = loadDataset(parseDatasetName(name, RECORDED_DATASET), {
      dataDir,
      seed: dataSeed,
      trainSubset,
      testSubset,
    });
    lastDataset = { key, dataset };
    dataset.catch(() => {
      if (lastDataset?.dataset === dataset) lastDataset = null;
    });
  }
  return lastDataset.dataset;
}

/** Where a run's dataset name comes from, for the error naming an unknown one. */
const RECORDED_DATASET = "a run's config (dataset.name)";

/** The facts the planner needs; the name is one a run config holds (a plain string there). */
export function describeDataset(name: string): DatasetFacts {
  const { trainSize, testSize, shape, classes } = datasetFacts(
    parseDatasetName(name, RECORDED_DATASET),
  );
  return { trainSize, testSize, input: shape, classes };
}
