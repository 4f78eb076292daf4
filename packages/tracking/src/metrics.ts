import {
  describeRun,
  type EpochRecord,
  type RunConfig,
  type RunEvent,
  type RunRecord,
} from '@prunefuse/results';
import type { MlflowMetric, MlflowParam, MlflowTag } from './client.js';
import type { RunEnvironment } from './tracker-interface.js';

/**
 * How a run appears in MLflow.
 *
 * Metrics and their steps:
 *   selector.<m>, target.<m>   per epoch (train_loss, train_accuracy, lr, test_accuracy,
 *                              test_loss); the step counts epochs across the run, so each
 *                              retraining continues one curve
 *   round.<m>                  per selection round (labelled, selector_accuracy,
 *                              selector_loss, train_seconds, selection_seconds, macs,
 *                              spearman, topk_overlap); step = round
 *   budget.<m>                 per target built (accuracy, loss, macs,
 *                              selector_training_macs, train_seconds);
 *                              step = labelled-set size, so the chart is accuracy vs labels
 *   final.accuracy, macs.*, wall_seconds   once, from the finished record
 * Params: the resolved config, flattened to dotted keys. Tags: backend, device,
 * git_commit, method, prunefuse.run_id, plus MLflow's mlflow.runName and
 * mlflow.source.git.commit.
 */
export class MetricSteps {
  private selectorEpochs = 0;
  private targetEpochs = 0;

  /** The metrics of one event, stamped `timestamp` (ms). */
  metrics(event: RunEvent, timestamp: number): MlflowMetric[] {
    const metric = (key: string, value: number | null | undefined, step: number) =>
      value === null || value === undefined ? [] : [{ key, value, timestamp, step }];
    switch (event.type) {
      case 'epoch': {
        const step = event.phase === 'selector' ? this.selectorEpochs++ : this.targetEpochs++;
        return epochMetrics(event.phase, event.epoch).flatMap(([key, value]) =>
          metric(key, value, step),
        );
      }
      case 'round': {
        const { round } = event;
        return [
          ...metric('round.labelled', round.labelled, round.round),
          ...metric('round.selector_accuracy', round.selectorAccuracy, round.round),
          ...metric('round.selector_loss', round.selectorLoss, round.round),
          ...metric('round.train_seconds', round.trainSeconds, round.round),
          ...metric('round.selection_seconds', round.selectionSeconds, round.round),
          ...metric(
            'round.macs',
            round.macs.selectorTraining + round.macs.poolScoring,
            round.round,
          ),
          ...metric('round.spearman', round.rankAgreement?.spearman, round.round),
          ...metric('round.topk_overlap', round.rankAgreement?.topKOverlap, round.round),
        ];
      }
      case 'target': {
        const { target } = event;
        return [
          ...metric('budget.accuracy', target.accuracy, target.labelled),
          ...metric('budget.loss', target.loss, target.labelled),
          ...metric('budget.macs', target.macs, target.labelled),
          ...metric('budget.selector_training_macs', target.selectorTrainingMacs, target.labelled),
          ...metric('budget.train_seconds', target.trainSeconds, target.labelled),
        ];
      }
    }
  }
}

function epochMetrics(
  phase: 'selector' | 'target',
  epoch: EpochRecord,
): Array<[string, number | undefined]> {
  return [
    [`${phase}.train_loss`, epoch.trainLoss],
    [`${phase}.train_accuracy`, epoch.trainAccuracy],
    [`${phase}.lr`, epoch.lr],
    [`${phase}.test_accuracy`, epoch.testAccuracy],
    [`${phase}.test_loss`, epoch.testLoss],
  ];
}

/** Metrics of the finished run as a whole. */
export function finalMetrics(record: RunRecord, timestamp: number): MlflowMetric[] {
  const last = record.targets[record.targets.length - 1];
  const values: Array<[string, number | undefined]> = [
    ['final.accuracy', last?.accuracy],
    ['macs.selector_training', record.macs.selectorTraining],
    ['macs.pool_scoring', record.macs.poolScoring],
    ['macs.target_training', record.macs.targetTraining],
    ['macs.total', record.macs.total],
    ['wall_seconds', record.wallSeconds],
  ];
  return values.flatMap(([key, value]) =>
    value === undefined ? [] : [{ key, value, timestamp, step: 0 }],
  );
}

/**
 * A finished record as the events its run emitted, each with the time it happened,
 * reconstructed from the start time and the seconds the record gives each epoch.
 */
export function recordEvents(record: RunRecord): Array<{ event: RunEvent; timestamp: number }> {
  let clock = Date.parse(record.startedAt);
  const out: Array<{ event: RunEvent; timestamp: number }> = [];
  const epochs = (phase: 'selector' | 'target', labelled: number, list: EpochRecord[]) => {
    for (const epoch of list) {
      clock += epoch.seconds * 1000;
      out.push({
        event: { type: 'epoch', phase, labelled, totalEpochs: list.length, epoch },
        timestamp: clock,
      });
    }
  };
  for (const { epochs: list, ...round } of record.rounds) {
    epochs('selector', round.labelled, list);
    clock += round.selectionSeconds * 1000;
    out.push({ event: { type: 'round', round }, timestamp: clock });
  }
  for (const { epochs: list, ...target } of record.targets) {
    epochs('target', target.labelled, list);
    out.push({ event: { type: 'target', target }, timestamp: clock });
  }
  return out;
}

export function runParams(config: RunConfig): MlflowParam[] {
  return flatten(config).map(([key, value]) => ({ key, value }));
}

export function runTags(id: string, config: RunConfig, environment: RunEnvironment): MlflowTag[] {
  const tags: MlflowTag[] = [
    { key: 'mlflow.runName', value: runName(id, config) },
    { key: 'prunefuse.run_id', value: id },
    { key: 'method', value: config.method.name },
    { key: 'backend', value: environment.backend },
    { key: 'device', value: environment.device },
  ];
  if (environment.gitCommit) {
    tags.push({ key: 'git_commit', value: environment.gitCommit });
    tags.push({ key: 'mlflow.source.git.commit', value: environment.gitCommit });
  }
  return tags;
}

export function runName(id: string, config: RunConfig): string {
  return `${describeRun(config)} (${id})`;
}

function flatten(value: unknown, prefix = ''): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, item]) =>
      flatten(item, prefix ? `${prefix}.${key}` : key),
    );
  }
  return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
}
