import path from 'node:path';
import {
  BACKEND_NAMES,
  type BackendChoice,
  parseBackendChoice,
  parseGpuChoice,
  useGpu,
} from '@prunefuse/engine';
import { writeReport } from '@prunefuse/report';
import { describeRun, ResultsStore, type RunRecord } from '@prunefuse/results';
import {
  authHeadersFromEnv,
  MlflowClient,
  MlflowTracker,
  type RunEnvironment,
  syncCommand,
} from '@prunefuse/tracking';
import { type Command, Option } from 'commander';
import { type DescribeDataset, type ExpandedRun, expandSweep } from '../config/expand.js';
import { readExperiment } from '../config/load.js';
import { describeStatus, dryRunRows, formatMacs } from '../dry-run.js';
import * as wired from '../execute-run.js';
import { FILTER_SYNTAX, parseFilter } from '../filter.js';
import { interruptMessage, onInterrupt } from '../interrupt.js';
import { countForwardMacs, type ForwardMacs } from '../macs-estimate.js';
import { formatTable, printJson, printText } from '../output.js';
import { preflight } from '../preflight.js';
import { formatDuration } from '../progress/duration.js';
import { createProgress, type ProgressStream } from '../progress/reporter.js';
import { describeStaleRuns, runsFromOtherCommits, type StaleRun } from '../provenance.js';
import { gitCommit, prepareEnvironment } from '../run-environment.js';
import { parseShard, runsInShard, SHARD_SYNTAX } from '../shard.js';
import { type ExecuteRun, runSweep } from '../sweep.js';
import { formatSweepResults, sweepResults } from '../sweep-results.js';
import {
  cachedStepRates,
  describeCalibration,
  estimateWallTimes,
  measureStepRates,
  type StepRatesFor,
} from '../wall-estimate.js';
import { paperBaselineIfPresent } from './report.js';

/** What `run` needs from the packages that compute; tests pass their own. */
export interface RunDependencies {
  executeRun: ExecuteRun;
  describeDataset: DescribeDataset;
  forwardMacs: ForwardMacs;
  environment: (backend: BackendChoice) => Promise<RunEnvironment>;
  /** The commit this checkout is at (recorded with every run), null outside git. */
  gitCommit: () => string | null;
  progressStream: ProgressStream;
  /**
   * Measured training and inference rates for `--dry-run`'s wall-time estimate; without
   * it a dry run estimates MACs only and touches no backend.
   */
  stepRates?: StepRatesFor;
}

const WIRED: RunDependencies = {
  executeRun: wired.executeRun,
  describeDataset: wired.describeDataset,
  forwardMacs: countForwardMacs,
  environment: prepareEnvironment,
  gitCommit: () => gitCommit(),
  progressStream: process.stderr,
  stepRates: (workload) => cachedStepRates(workload, measureStepRates),
};

interface RunOptions {
  dataDir?: string;
  out?: string;
  backend?: string;
  dryRun?: boolean;
  filter?: string;
  json?: boolean;
  mlflow?: string;
  mlflowOptional?: boolean;
  shard?: string;
  gpu?: string;
  rerunStale?: boolean;
}

export function registerRun(program: Command, dependencies: RunDependencies = WIRED): void {
  program
    .command('run')
    .description(
      'Run an experiment config: every point of its sweep not yet in the results store. ' +
        'Rerunning the same command resumes a killed sweep; two sweeps may share a store.',
    )
    .argument('<config>', 'experiment file, e.g. experiments/quick.yaml')
    .option('--out <dir>', 'results store folder (default: results/<experiment>)')
    .addOption(
      new Option(
        '--backend <name>',
        `auto or one of ${BACKEND_NAMES.join(', ')} (default: the config's)`,
      ).env('PRUNEFUSE_BACKEND'),
    )
    .option(
      '--data-dir <dir>',
      "folder holding the dataset's files, for every run (overrides the config's dataset.dataDir)",
    )
    .option('--dry-run', 'list the expanded runs with estimated MACs and status; run nothing')
    .option('--filter <expr>', `only runs matching: ${FILTER_SYNTAX}`)
    .addOption(
      new Option(
        '--shard <i/n|auto>',
        `only this process's share of the runs, for n processes on one store: ${SHARD_SYNTAX}`,
      ).env('PRUNEFUSE_SHARD'),
    )
    .option(
      '--gpu <N|auto>',
      'the GPU the webgpu backend takes: an index, or auto for the one Slurm assigned ' +
        '(SLURM_STEP_GPUS, SLURM_JOB_GPUS, CUDA_VISIBLE_DEVICES, GPU_DEVICE_ORDINAL); ' +
        'default: $PRUNEFUSE_GPU, else the default adapter',
    )
    .option(
      '--rerun-stale',
      'recompute finished runs whose records were computed at another git commit (the old records move to <store>/runs/stale)',
    )
    .option('--mlflow <uri>', 'track runs in this MLflow server (default: $MLFLOW_TRACKING_URI)')
    .option(
      '--mlflow-optional',
      'a tracking failure only warns (exit 0); default: the sweep goes on, then exits 1 naming it',
    )
    .option('--json', 'print one JSON document on stdout')
    .action(async (configFile: string, options: RunOptions) => {
      await runCommand(configFile, options, dependencies);
    });
}

async function runCommand(
  configFile: string,
  options: RunOptions,
  deps: RunDependencies,
): Promise<void> {
  const backend =
    options.backend === undefined ? null : parseBackendChoice(options.backend, '--backend');
  const experiment = readExperiment(configFile);
  const sweep = expandSweep(experiment, deps.describeDataset);
  const matches = options.filter ? parseFilter(options.filter, sweep.runs) : () => true;
  const shard = options.shard === undefined ? null : parseShard(options.shard);
  if (options.gpu !== undefined) useGpu(parseGpuChoice(options.gpu, '--gpu'));
  const selected = sweep.runs.filter(matches);
  const dataDir = options.dataDir === undefined ? null : path.resolve(options.dataDir);
  const runs: ExpandedRun[] = (shard ? runsInShard(selected, shard) : selected).map((run) => {
    const { config } = run;
    return {
      ...run,
      config: {
        ...config,
        ...(backend ? { backend } : {}),
        // Where the files live is not part of a run's identity (see run-id.ts).
        ...(dataDir ? { dataset: { ...config.dataset, dataDir } } : {}),
      },
    };
  });
  const sweepName = shard
    ? `${sweep.experiment} (shard ${shard.index}/${shard.count})`
    : sweep.experiment;
  const root = options.out ?? path.join('results', sweep.experiment);

  if (options.dryRun) {
    const store = ResultsStore.exists(root) ? new ResultsStore(root) : null;
    const rows = dryRunRows(runs, store, deps.describeDataset, deps.forwardMacs);
    const pendingRows = rows.filter((r) => r.status !== 'finished');
    const pendingMacs = pendingRows.reduce((t, r) => t + r.estimatedMacs.total, 0);
    const macsToCompute = pendingRows.reduce((t, r) => t + r.macsToCompute.total, 0);
    const wall = deps.stepRates
      ? await estimateWallTimes({
          // The time each pending run takes here: what it replays costs nothing.
          runs: rows.flatMap((row, i) =>
            row.status === 'finished'
              ? []
              : [{ id: row.id, config: runs[i]!.config, macs: row.macsToCompute }],
          ),
          backend: await deps.environment(
            backend ??
              parseBackendChoice(runs[0]?.config.backend ?? 'auto', `${configFile}: backend`),
          ),
          inputOf: (config) => deps.describeDataset(config.dataset.name).input,
          stepRates: deps.stepRates,
        })
      : null;
    /** Seconds a pending run still computes here; null for a finished run or without rates. */
    const secondsOf = (id: string) => wall?.seconds.get(id) ?? null;
    const pendingSeconds = wall ? pendingRows.reduce((t, r) => t + secondsOf(r.id)!, 0) : null;
    if (options.json) {
      return printJson({
        experiment: sweep.experiment,
        config: configFile,
        store: root,
        shard,
        runs: rows.map((r) => ({ ...r, secondsToCompute: secondsOf(r.id) })),
        pendingMacs,
        macsToCompute,
        pendingSeconds,
        calibrations: wall?.calibrations ?? [],
      });
    }
    for (const c of wall?.calibrations ?? []) {
      deps.progressStream.write(`${describeCalibration(c)}\n`);
    }
    printText(
      formatTable(
        [
          'id',
          'method',
          'options',
          'arch',
          'acquisition',
          'seed',
          'milestones',
          'status',
          'est. MACs',
          'to compute',
          ...(wall ? ['est. time'] : []),
        ],
        rows.map((r) => [
          r.id,
          r.method,
          r.options,
          r.arch,
          r.acquisition,
          String(r.seed),
          r.milestones.join(','),
          describeStatus(r),
          formatMacs(r.estimatedMacs.total),
          r.status === 'finished' ? '-' : formatMacs(r.macsToCompute.total),
          ...(wall ? [r.status === 'finished' ? '-' : formatDuration(secondsOf(r.id)!)] : []),
        ]),
      ),
    );
    const pending = pendingRows.length;
    const time = pendingSeconds === null ? '' : `, about ${formatDuration(pendingSeconds)} here`;
    const replayed =
      macsToCompute < pendingMacs ? `, ${formatMacs(macsToCompute)} of them to compute` : '';
    return printText(
      `${sweepName}: ${rows.length} runs, ${rows.length - pending} finished, ${pending} to run ` +
        `(about ${formatMacs(pendingMacs)} MACs${replayed}${time}); store ${root}`,
    );
  }

  const backendChoice =
    backend ?? parseBackendChoice(runs[0]?.config.backend ?? 'auto', `${configFile}: backend`);
  // Checked before the store exists, so that a sweep that cannot start leaves nothing.
  const existing = ResultsStore.exists(root) ? new ResultsStore(root) : null;
  const mlflowClient = trackingClient(options);
  const toRun = runs.filter((run) => !existing?.has(run.id));
  const prepared =
    toRun.length > 0
      ? await preflight({
          sweep: configFile,
          runs: toRun,
          backend: backendChoice,
          describeDataset: deps.describeDataset,
          environment: deps.environment,
        })
      : null;
  const store = ResultsStore.open(root);
  const commit = deps.gitCommit();
  const stale = runsFromOtherCommits(existing, runs, commit);
  if (stale.length > 0 && commit !== null) {
    const told = describeStaleRuns(stale, commit);
    deps.progressStream.write(
      options.rerunStale
        ? `${told}: recomputing them (--rerun-stale)\n`
        : `${told}; the report marks groups that mix commits; --rerun-stale recomputes them\n`,
    );
    if (options.rerunStale) retireStaleRuns(store, stale, commit);
  }
  const progress = createProgress(deps.progressStream);
  const tracker = mlflowClient
    ? new MlflowTracker(mlflowClient, {
        store,
        warn: (message) => progress.log(message),
      })
    : null;
  const resume = ['pnpm prunefuse run', configFile, '--out', root]
    .concat(options.filter ? ['--filter', `'${options.filter}'`] : [])
    .concat(options.shard ? ['--shard', options.shard] : [])
    .join(' ');
  const stopListening = onInterrupt(() => interruptMessage({ resume, store, runs }));
  const summary = await runSweep({
    runs,
    store,
    execute: deps.executeRun,
    environment: async () => prepared ?? deps.environment(backendChoice),
    progress,
    tracker,
  }).finally(stopListening);
  if (summary.failed.length > 0) process.exitCode = 1;
  const diverged = divergedTargets(store, runs);
  const results = sweepResults(finishedRecords(store, runs));
  // Shards finish at different times: the report is rendered once, after the last
  // (`prunefuse slurm submit` runs it as a dependent job).
  const report =
    experiment.file.report && !shard && store.records().length > 0
      ? await writeReport(root, path.join(root, 'report'), {
          title: `PruneFuse report: ${sweep.experiment}`,
          ...paperBaselineIfPresent(),
        })
      : null;
  const mlflow = tracker
    ? {
        trackingUri: tracker.client.trackingUri,
        ok: tracker.active,
        error: tracker.active ? null : String((tracker.failed as Error).message),
        sync: tracker.active ? null : syncCommand(root, tracker.client.trackingUri),
      }
    : null;
  // Tracking asked for and failed: the sweep's results are whole, but not where the user
  // looks for them; unless it was optional, that fails the command.
  if (mlflow && !mlflow.ok && !options.mlflowOptional) process.exitCode = 1;
  if (options.json)
    return printJson({
      experiment: sweep.experiment,
      store: root,
      shard,
      ...summary,
      stale: options.rerunStale ? [] : stale,
      diverged,
      mlflow,
      results,
      report: report?.out ?? null,
    });
  if (results.length > 0) {
    deps.progressStream.write(
      `${formatSweepResults(results)}\n${report ? `report: ${report.out}\n` : ''}`,
    );
  }
  const lines = [
    `${sweepName}: ${summary.total} runs: ${summary.executed.length} executed, ` +
      `${summary.skipped.length} already finished, ${summary.finishedElsewhere.length} finished by another sweep, ` +
      `${summary.failed.length} failed; store ${root}`,
    ...summary.failed.map((f) => `  failed ${f.id}: ${f.message}`),
  ];
  if (diverged.length > 0) {
    lines.push(
      `${diverged.length} target(s) diverged: their figures are those of a broken model, and \`check\` fails on them`,
      ...diverged.map(
        (d) => `  diverged ${d.id} (${d.run}) at ${d.labelled} labelled: ${d.reason}`,
      ),
    );
  }
  if (report) lines.push(`report: ${report.out}`);
  if (mlflow && !mlflow.ok)
    lines.push(
      `MLflow tracking failed, not all runs reached ${mlflow.trackingUri}: ${mlflow.error}`,
      `  upload them with: ${mlflow.sync}${options.mlflowOptional ? '' : ' (or pass --mlflow-optional to only warn)'}`,
    );
  printText(lines.join('\n'));
}

/** The MLflow client of --mlflow or $MLFLOW_TRACKING_URI (a URI refused before anything runs), or null. */
function trackingClient(options: RunOptions): MlflowClient | null {
  const trackingUri = options.mlflow ?? process.env.MLFLOW_TRACKING_URI;
  if (!trackingUri) return null;
  return new MlflowClient({
    trackingUri,
    uriSource: options.mlflow ? '--mlflow' : '$MLFLOW_TRACKING_URI',
    headers: authHeadersFromEnv(),
  });
}

/**
 * Moves the records of runs computed at another commit to runs/stale, each under its
 * claim (a run another sweep is executing right now is left to it), so that the sweep
 * computes them again.
 */
function retireStaleRuns(store: ResultsStore, stale: readonly StaleRun[], commit: string): void {
  for (const run of stale) {
    const attempt = store.claim(run.id);
    if (!attempt.claimed) continue;
    try {
      store.moveAside(
        run.id,
        `computed at commit ${run.commit ?? 'unknown'}; recomputed at ${commit} (--rerun-stale)`,
        { into: 'stale' },
      );
    } finally {
      attempt.claim.release();
    }
  }
}

/** The records of the sweep's runs that are finished, wherever they were computed. */
function finishedRecords(store: ResultsStore, runs: readonly ExpandedRun[]): RunRecord[] {
  return runs.flatMap(({ id }) => {
    const found = store.inspect(id);
    return found.state === 'finished' ? [found.record] : [];
  });
}

/** Targets of the sweep's finished runs that the training loop flagged as diverged. */
function divergedTargets(store: ResultsStore, runs: readonly ExpandedRun[]) {
  return runs.flatMap(({ id }) => {
    const found = store.inspect(id);
    if (found.state !== 'finished') return [];
    const run = describeRun(found.record.config);
    return found.record.targets.flatMap(({ labelled, diverged }) =>
      diverged ? [{ id, run, labelled, reason: diverged.reason }] : [],
    );
  });
}
