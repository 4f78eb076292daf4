import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseBackendChoice } from '@prunefuse/engine';
import {
  type ClaimHolder,
  describeRun,
  isStale,
  ResultsStore,
  readHolder,
  writeFileAtomic,
} from '@prunefuse/results';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ExpandedRun, expandSweep } from '../config/expand.js';
import { readExperiment } from '../config/load.js';
import { describeDataset } from '../execute-run.js';
import { formatTable, printJson, printText } from '../output.js';
import { shardOfRun } from '../shard.js';
import { parseCount } from './option-parsers.js';

/**
 * `prunefuse slurm`: a sweep as one Slurm array job, each task running its shard of the
 * runs on one store (a shared file system), and a job that runs after the last task to
 * render the report and check it. Slurm schedules; the store coordinates (claims with
 * leases, atomic records), so a task that fails can be resubmitted as it is.
 */
export function registerSlurm(program: Command): void {
  const slurm = program
    .command('slurm')
    .description('Run a sweep as a Slurm array job on a shared store, and follow it');
  slurm
    .command('submit')
    .description(
      'Submit an array job (one task per shard, each `prunefuse run --shard`) and a job that ' +
        'renders the report (and checks it with --baseline) after the array ends',
    )
    .argument('<config>', 'experiment file, e.g. experiments/cifar10-resnet56.yaml')
    .option('--tasks <n>', 'array tasks, i.e. shards (default: one per run)', parseCount)
    .option(
      '--gpus-per-task <n>',
      'GPUs each task asks for (default: 1, or 0 when the backend is wasm or cpu)',
      parseGpuCount,
    )
    .option('--cpus-per-task <n>', 'CPU cores each task asks for', parseCount)
    .option('--partition <name>', 'Slurm partition (default: the cluster default)')
    .option('--time <HH:MM:SS>', 'time limit of each task', parseTimeLimit)
    .option('--store <dir>', 'results store on a file system every node sees', undefined)
    .option('--baseline <file>', 'after the report, run `check` against this baseline')
    .option('--backend <name>', "backend for every task (default: the config's)")
    .addOption(
      new Option(
        '--bundle <file>',
        'run this single-file bundle (pnpm bundle -> dist/prunefuse.mjs) on the nodes ' +
          '(default: the CLI this command runs as)',
      ),
    )
    .option('--print', 'print the two job scripts; submit nothing, write nothing')
    .action((configFile: string, options: SubmitOptions) => submit(configFile, options));
  slurm
    .command('status')
    .description(
      'Per run of a store: done, running (which host, lease), failed (why) or pending (which task)',
    )
    .argument('<store>', 'results store directory')
    .option('--config <file>', 'experiment file (default: the one `slurm submit` recorded)')
    .option('--require-done', 'exit 1 unless every run is done')
    .option('--json', 'print one JSON document on stdout')
    .action((store: string, options: StatusOptions) => status(store, options));
}

interface SubmitOptions {
  tasks?: number;
  gpusPerTask?: number;
  cpusPerTask?: number;
  partition?: string;
  time?: string;
  store?: string;
  baseline?: string;
  backend?: string;
  bundle?: string;
  print?: boolean;
}

interface StatusOptions {
  config?: string;
  requireDone?: boolean;
  json?: boolean;
}

/** What `slurm submit` leaves in <store>/slurm/submission.json for `slurm status`. */
interface Submission {
  config: string;
  experiment: string;
  tasks: number;
  arrayJob: string;
  reportJob: string;
  submittedAt: string;
}

/** Everything the two job scripts depend on; paths absolute. */
export interface SlurmPlan {
  experiment: string;
  config: string;
  store: string;
  /** Working directory of the jobs (where relative files such as baselines/paper.json resolve). */
  workdir: string;
  /** The command line that starts the CLI on a node, already shell-quoted. */
  cli: string;
  tasks: number;
  gpusPerTask: number;
  cpusPerTask?: number;
  partition?: string;
  time?: string;
  backend?: string;
  baseline?: string;
}

/** The CLI in the job scripts: a bash array set from SlurmPlan.cli. */
const PRUNEFUSE = `"\${PRUNEFUSE[@]}"`;

/**
 * The array job: task k runs shard k of `tasks`. `--shard auto/<tasks>` takes the shard
 * from the task id itself, so a single task resubmitted with `sbatch --array=k` still runs
 * shard k; finished runs are skipped and interrupted ones restarted by the store.
 */
export function arrayScript(plan: SlurmPlan): string {
  const run = [
    PRUNEFUSE,
    'run',
    quote(plan.config),
    '--out',
    quote(plan.store),
    '--shard',
    `auto/${plan.tasks}`,
  ];
  if (plan.backend) run.push('--backend', plan.backend);
  if (plan.gpusPerTask > 0) run.push('--gpu', 'auto');
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${jobName(plan.experiment)}`,
    `#SBATCH --array=0-${plan.tasks - 1}`,
    '#SBATCH --ntasks=1',
    ...resourceLines(plan),
    ...(plan.gpusPerTask > 0 ? [`#SBATCH --gpus-per-task=${plan.gpusPerTask}`] : []),
    `#SBATCH --chdir=${quote(plan.workdir)}`,
    `#SBATCH --output=${quote(path.join(logDir(plan.store), '%x-%A_%a.out'))}`,
    `# ${plan.experiment}: shard $SLURM_ARRAY_TASK_ID of ${plan.tasks} on store ${plan.store}`,
    'set -euo pipefail',
    `PRUNEFUSE=(${plan.cli})`,
    `exec ${run.join(' ')}`,
    '',
  ].join('\n');
}

/** The job that runs after every array task has ended, however it ended. */
export function reportScript(plan: SlurmPlan): string {
  const report = path.join(plan.store, 'report');
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${jobName(plan.experiment)}-report`,
    '#SBATCH --ntasks=1',
    ...resourceLines({ ...plan, cpusPerTask: undefined }),
    `#SBATCH --chdir=${quote(plan.workdir)}`,
    `#SBATCH --output=${quote(path.join(logDir(plan.store), '%x-%j.out'))}`,
    'set -euo pipefail',
    `PRUNEFUSE=(${plan.cli})`,
    `${PRUNEFUSE} report ${quote(plan.store)} --out ${quote(report)}`,
    `${PRUNEFUSE} slurm status ${quote(plan.store)} --config ${quote(plan.config)} --require-done`,
    ...(plan.baseline
      ? [`${PRUNEFUSE} check ${quote(plan.store)} --baseline ${quote(plan.baseline)}`]
      : []),
    '',
  ].join('\n');
}

function resourceLines(plan: SlurmPlan): string[] {
  return [
    ...(plan.partition ? [`#SBATCH --partition=${plan.partition}`] : []),
    ...(plan.time ? [`#SBATCH --time=${plan.time}`] : []),
    ...(plan.cpusPerTask ? [`#SBATCH --cpus-per-task=${plan.cpusPerTask}`] : []),
  ];
}

function submit(configFile: string, options: SubmitOptions): void {
  const experiment = readExperiment(configFile);
  const sweep = expandSweep(experiment, describeDataset);
  const backend =
    options.backend ?? sweep.runs[0]?.config.backend ?? experiment.file.backend ?? 'auto';
  parseBackendChoice(backend, options.backend ? '--backend' : `${configFile}: backend`);
  const store = path.resolve(options.store ?? path.join('results', sweep.experiment));
  const plan: SlurmPlan = {
    experiment: sweep.experiment,
    config: path.resolve(configFile),
    store,
    workdir: process.cwd(),
    cli: options.bundle ? bundleCli(options.bundle) : thisCli(),
    tasks: Math.min(options.tasks ?? sweep.runs.length, Math.max(sweep.runs.length, 1)),
    gpusPerTask: options.gpusPerTask ?? (backend === 'wasm' || backend === 'cpu' ? 0 : 1),
    cpusPerTask: options.cpusPerTask,
    partition: options.partition,
    time: options.time,
    backend: options.backend,
    baseline: options.baseline ? path.resolve(options.baseline) : undefined,
  };
  const scripts = { array: arrayScript(plan), report: reportScript(plan) };
  if (options.print) {
    printText(`# ${slurmDir(store)}/array.sh\n${scripts.array}`);
    printText(`# ${slurmDir(store)}/report.sh (sbatch --dependency=afterany:<array job>)`);
    printText(scripts.report);
    return;
  }
  mkdirSync(logDir(store), { recursive: true });
  ResultsStore.open(store);
  const arrayFile = path.join(slurmDir(store), 'array.sh');
  const reportFile = path.join(slurmDir(store), 'report.sh');
  writeFileSync(arrayFile, scripts.array, { mode: 0o755 });
  writeFileSync(reportFile, scripts.report, { mode: 0o755 });
  const arrayJob = sbatch([arrayFile]);
  const reportJob = sbatch([`--dependency=afterany:${arrayJob}`, reportFile]);
  const submission: Submission = {
    config: plan.config,
    experiment: plan.experiment,
    tasks: plan.tasks,
    arrayJob,
    reportJob,
    submittedAt: new Date().toISOString(),
  };
  writeFileAtomic(submissionFile(store), `${JSON.stringify(submission, null, 2)}\n`);
  printText(
    [
      `${plan.experiment}: ${sweep.runs.length} runs in ${plan.tasks} array tasks: job ${arrayJob}` +
        ` (${arrayFile}); report job ${reportJob} after it (${reportFile})`,
      `logs: ${logDir(store)}`,
      `follow: prunefuse slurm status ${store}`,
    ].join('\n'),
  );
}

/** Submits a script; returns the job id (`sbatch --parsable` prints `id[;cluster]`). */
function sbatch(args: string[]): string {
  const result = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `could not start sbatch (${result.error.message}); run this on a Slurm login node, ` +
        'or use --print and submit the scripts yourself',
    );
  }
  if (result.status !== 0) {
    throw new Error(
      `sbatch ${args.join(' ')} failed (exit ${result.status}): ${result.stderr.trim()}`,
    );
  }
  const id = result.stdout.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed '${result.stdout.trim()}', not a job id`);
  return id;
}

function bundleCli(bundle: string): string {
  const file = path.resolve(bundle);
  if (!existsSync(file)) {
    throw new Error(
      `--bundle ${bundle}: no such file; build it with: pnpm bundle (dist/prunefuse.mjs)`,
    );
  }
  return `${quote(process.execPath)} ${quote(file)}`;
}

/** How this very process was started (node, its flags such as tsx's loader, the entry script). */
function thisCli(): string {
  const entry = process.argv[1];
  if (!entry) throw new Error('cannot tell how this CLI was started; pass --bundle <file>');
  return [process.execPath, ...process.execArgv, path.resolve(entry)].map(quote).join(' ');
}

type RunState =
  | { state: 'done'; finishedAt: string; device: string }
  | { state: 'running'; holder: ClaimHolder; stale: boolean }
  | { state: 'failed'; host: string; message: string }
  | { state: 'pending' };

interface StatusRow {
  id: string;
  run: string;
  /** The array task whose shard holds the run; null without the config. */
  task: number | null;
  status: RunState;
}

/** The state of each run: the config's runs when known, else whatever the store holds. */
export function storeStatus(
  store: ResultsStore,
  runs: readonly ExpandedRun[] | null,
  tasks: number | null,
): StatusRow[] {
  const failures = new Map(store.failures().map((f) => [f.id, f]));
  const ids = runs
    ? runs.map((r) => r.id)
    : [...new Set([...store.ids(), ...failures.keys(), ...claimIds(store)])].sort();
  const labels = new Map(runs?.map((r) => [r.id, describeRun(r.config)]));
  return ids.map((id) => {
    const task = runs && tasks ? shardOfRun(id, ids, tasks) : null;
    const found = store.inspect(id);
    if (found.state === 'finished') {
      return {
        id,
        run: labels.get(id) ?? describeRun(found.record.config),
        task,
        status: {
          state: 'done',
          finishedAt: found.record.finishedAt,
          device: found.record.environment.device,
        },
      };
    }
    const run = labels.get(id) ?? id;
    const holder = readHolder(path.join(store.claimsDir, `${id}.lock`));
    if (holder)
      return { id, run, task, status: { state: 'running', holder, stale: isStale(holder) } };
    const failure = failures.get(id);
    if (failure) {
      return {
        id,
        run,
        task,
        status: { state: 'failed', host: failure.hostname, message: failure.message },
      };
    }
    return { id, run, task, status: { state: 'pending' } };
  });
}

/** Runs with a claim (the store's own index lock aside). */
function claimIds(store: ResultsStore): string[] {
  if (!existsSync(store.claimsDir)) return [];
  return readdirSync(store.claimsDir)
    .filter((f) => f.endsWith('.lock') && f !== 'index.lock')
    .map((f) => f.slice(0, -'.lock'.length));
}

function status(root: string, options: StatusOptions): void {
  if (!ResultsStore.exists(root)) throw new Error(`${root}: not a results store (no runs/ folder)`);
  const store = new ResultsStore(root);
  const submission = readSubmission(root);
  const configFile = options.config ?? submission?.config ?? null;
  const runs = configFile ? expandSweep(readExperiment(configFile), describeDataset).runs : null;
  const tasks = submission && configFile === submission.config ? submission.tasks : null;
  const rows = storeStatus(store, runs, tasks);
  const counts = { done: 0, running: 0, failed: 0, pending: 0 };
  for (const row of rows) counts[row.status.state] += 1;
  if (options.requireDone && counts.done < rows.length) process.exitCode = 1;
  if (options.json) {
    printJson({ store: root, config: configFile, submission, counts, runs: rows });
    return;
  }
  const lines = [
    formatTable(
      ['id', 'run', 'task', 'status', 'detail'],
      rows.map((row) => [
        row.id,
        row.run,
        row.task === null ? '' : String(row.task),
        row.status.state,
        detail(row.status),
      ]),
    ),
    `${rows.length} runs: ${counts.done} done, ${counts.running} running, ${counts.failed} failed, ${counts.pending} pending` +
      (runs ? '' : ' (pass --config to list the runs not started yet)'),
  ];
  const queued = submission ? queuedTasks(submission.arrayJob) : null;
  if (queued && queued.size > 0) {
    lines.push(
      `job ${submission!.arrayJob}: ${[...queued].map(([task, state]) => `task ${task} ${state}`).join(', ')}`,
    );
  }
  // Tasks that ended with runs of their shard unfinished: resubmitting them as they are
  // skips the finished runs and restarts the interrupted ones.
  const retry = [
    ...new Set(
      rows
        .filter((r) => isUnfinished(r.status) && r.task !== null && !queued?.has(r.task))
        .map((r) => r.task!),
    ),
  ].sort((a, b) => a - b);
  if (submission && queued && retry.length > 0) {
    lines.push(
      `task(s) ${retry.join(',')} ended with runs unfinished; resubmit them with: ` +
        `sbatch --array=${retry.join(',')} ${path.join(slurmDir(root), 'array.sh')}`,
    );
  }
  printText(lines.join('\n'));
}

/**
 * Array tasks of `job` that Slurm still has queued or running, with their state; null
 * when squeue cannot tell (not on a Slurm node), empty once every task has ended.
 */
function queuedTasks(job: string): Map<number, string> | null {
  const result = spawnSync('squeue', ['-h', '-r', '-j', job, '-o', '%K %T'], {
    encoding: 'utf8',
  });
  if (result.error || result.status !== 0) return null;
  const tasks = new Map<number, string>();
  for (const line of result.stdout.split('\n')) {
    const [task, state] = line.trim().split(/\s+/);
    if (task && state && /^\d+$/.test(task)) tasks.set(Number(task), state);
  }
  return tasks;
}

function isUnfinished(status: RunState): boolean {
  return (
    status.state === 'failed' ||
    status.state === 'pending' ||
    (status.state === 'running' && status.stale)
  );
}

function detail(status: RunState): string {
  switch (status.state) {
    case 'done':
      return `${status.finishedAt} on ${status.device}`;
    case 'running': {
      const { holder } = status;
      const where = `${holder.hostname} pid ${holder.pid} since ${holder.startedAt}`;
      if (status.stale) return `${where}: gone, the next task to reach it takes it over`;
      return holder.expiresAt ? `${where}, lease to ${holder.expiresAt}` : where;
    }
    case 'failed':
      return `on ${status.host}: ${status.message.split('\n')[0]}`;
    case 'pending':
      return '';
  }
}

function readSubmission(root: string): Submission | null {
  const file = submissionFile(root);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Submission;
}

function slurmDir(store: string): string {
  return path.join(store, 'slurm');
}

function logDir(store: string): string {
  return path.join(slurmDir(store), 'logs');
}

function submissionFile(store: string): string {
  return path.join(slurmDir(store), 'submission.json');
}

function jobName(experiment: string): string {
  return `prunefuse-${experiment.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** A word for bash: as is when it is plainly safe, else single-quoted. */
function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function parseGpuCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number of GPUs (0 or more), got '${value}'`);
  return n;
}

function parseTimeLimit(value: string): string {
  if (!/^(\d+-)?\d{1,2}(:\d{2}){0,2}$/.test(value))
    throw new InvalidArgumentError(
      `expected a Slurm time limit such as 04:00:00 or 1-12:00:00, got '${value}'`,
    );
  return value;
}
