import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ClaimHolder,
  ResultsStore,
  type RunRecord,
  writeFileAtomic,
} from '@prunefuse/results';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './cli-process.js';
import { ensureDebianPackages, MUNGE, SLURM } from './support/debian-packages.js';

/**
 * `prunefuse slurm` against a real one-node Slurm (Debian's slurm-wlm), started by
 * scripts/slurm-local.sh in its own folder and ports, and stopped afterwards. The sweep
 * is quick-ci's four methods on a smaller subset, so that the whole file takes a few
 * minutes on two cores; quick-ci itself runs the same way (see the README).
 */
const SLURM_TOOLS = ['slurmctld', 'slurmd', 'munged', 'sbatch', 'squeue', 'scancel', 'scontrol'];
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
// As root with apt-get the packages are installed when missing (a fresh machine); the
// tests skip only where Slurm cannot run here at all, and say why.
if (process.getuid?.() === 0 && hasApt) ensureDebianPackages([SLURM, MUNGE]);
const skipReason =
  process.getuid?.() !== 0
    ? 'not root (slurmd must start jobs as their users)'
    : SLURM_TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        .map((tool) => `${tool} not installed (apt-get install slurm-wlm munge)`)
        .join('; ') || null;
if (skipReason) console.warn(`Slurm tests skipped: ${skipReason}`);

// Large enough that every target learns (a target at chance is flagged as diverged and
// fails `check`), small enough for about two minutes in one process on two cores.
const CONFIG = `description: quick-ci's four methods on 500 digits, for the Slurm tests
dataset: { name: mnist, trainSubset: 500, testSubset: 300 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: 0.5
  - name: svp
    proxyEpochs: 2
  - active-learning
  - random
acquisition: least-confidence
budget: { initial: 100, milestones: [200], roundSize: 100, classBalancedInitial: true }
training: { epochs: 5, batchSize: 32, lr: 0.1, schedule: cosine, augment: false, evalEvery: 5 }
report: false
seeds: [0]
backend: wasm
`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-slurm-test-'));
const slurmDir = path.join(dir, 'slurm');
const config = path.join(dir, 'slurm-ci.yaml');
const reference = path.join(dir, 'single-process');
const baseline = path.join(dir, 'baseline.json');
// Its own ports, so that a Slurm someone runs on this machine is left alone.
const slurmEnv = { SLURM_CONF: path.join(slurmDir, 'slurm.conf') };

function localSlurm(command: 'start' | 'stop') {
  return spawnSync(path.join(repoRoot, 'scripts/slurm-local.sh'), [command], {
    encoding: 'utf8',
    env: { ...process.env, SLURM_LOCAL_DIR: slurmDir, SLURM_LOCAL_PORT: '17817' },
  });
}

function slurm(tool: string, args: string[]): string {
  const result = spawnSync(tool, args, { encoding: 'utf8', env: { ...process.env, ...slurmEnv } });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function prunefuse(...args: string[]) {
  const result = runCli(args, slurmEnv);
  if (result.status !== 0) {
    throw new Error(`prunefuse ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return result.stdout;
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until Slurm has no task of `job` queued or running. */
function jobEnded(job: string): Promise<void> {
  return until(
    () => slurm('squeue', ['-h', '-j', job]).trim() === '',
    `job ${job} to end`,
    540_000,
  );
}

function jobState(job: string): string {
  const shown = slurm('scontrol', ['show', 'job', job]);
  return `${/JobState=(\S+)/.exec(shown)?.[1]} ${/ExitCode=(\S+)/.exec(shown)?.[1]}`;
}

function submitted(stdout: string): { arrayJob: string; reportJob: string } {
  const match = /job (\d+) .*report job (\d+)/.exec(stdout);
  if (!match) throw new Error(`no job ids in: ${stdout}`);
  return { arrayJob: match[1]!, reportJob: match[2]! };
}

/** What a deterministic sweep must reproduce exactly, run by run. */
function figures(store: string): Record<string, unknown> {
  const records: RunRecord[] = new ResultsStore(store).records();
  return Object.fromEntries(
    records.map((r) => [
      r.id,
      {
        initialLabelled: r.initialLabelled,
        selected: r.rounds.map((round) => round.selected),
        targets: r.targets.map((t) => [t.labelled, t.accuracy, t.loss]),
        macs: r.macs,
      },
    ]),
  );
}

/** How often each run was started, over every task log of a store. */
function starts(store: string): Record<string, number> {
  const logs = path.join(store, 'slurm/logs');
  const counts: Record<string, number> = {};
  for (const file of readdirSync(logs).filter((f) => !f.includes('-report-'))) {
    for (const match of readFileSync(path.join(logs, file), 'utf8').matchAll(
      /\] ([0-9a-f]{12}) .*: started$/gm,
    )) {
      counts[match[1]!] = (counts[match[1]!] ?? 0) + 1;
    }
  }
  return counts;
}

function foreignClaim(store: string, id: string, expiresInMs: number): ClaimHolder {
  const holder: ClaimHolder = {
    pid: 4242,
    hostname: 'gpu-node-17',
    startedAt: new Date().toISOString(),
    token: `foreign-${id}`,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  };
  // Atomically, as a claim is written: a task may be reading it at that moment.
  writeFileAtomic(path.join(store, 'claims', `${id}.lock`), JSON.stringify(holder));
  return holder;
}

describe.skipIf(skipReason !== null)('prunefuse slurm on a one-node Slurm', () => {
  let ids: string[] = [];

  beforeAll(() => {
    writeFileSync(config, CONFIG);
    const started = localSlurm('start');
    if (started.status !== 0) throw new Error(`slurm-local.sh start: ${started.stderr}`);
    // The figures a single process computes, which the array job must reproduce.
    prunefuse('run', config, '--out', reference);
    prunefuse('baseline', 'write', reference, '--out', baseline);
    ids = new ResultsStore(reference).ids();
  }, 600_000);

  afterAll(() => {
    localSlurm('stop');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 4-task array runs every run exactly once, as one process would; the report job renders and checks', async () => {
    const store = path.join(dir, 'array');
    mkdirSync(path.join(store, 'claims'), { recursive: true });
    // Another node's claims: one whose node died (lease expired), one still alive.
    // ids are sorted, so the first is task 0's and the second task 1's.
    const [abandoned, busy] = [ids[0]!, ids[1]!];
    foreignClaim(store, abandoned, -60_000);
    foreignClaim(store, busy, 20_000);

    const jobs = submitted(
      prunefuse(
        'slurm',
        'submit',
        config,
        '--tasks',
        '4',
        '--store',
        store,
        '--baseline',
        baseline,
      ),
    );
    // That node stays alive, renewing its lease, until task 1 has found its claim and
    // waits; then it dies, and its lease runs out 3 s later.
    const taskOneLog = path.join(store, `slurm/logs/prunefuse-slurm-ci-${jobs.arrayJob}_1.out`);
    await until(
      () => {
        foreignClaim(store, busy, 20_000);
        return (
          existsSync(taskOneLog) &&
          readFileSync(taskOneLog, 'utf8').includes(
            `run ${busy} is being executed by pid 4242 on gpu-node-17`,
          )
        );
      },
      'task 1 to wait for the live claim',
      300_000,
    );
    const live = foreignClaim(store, busy, 3_000);
    await jobEnded(jobs.arrayJob);
    await jobEnded(jobs.reportJob);

    expect(starts(store)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    expect(figures(store)).toEqual(figures(reference));
    expect(readdirSync(path.join(store, 'claims'))).toEqual([]);
    const taskLogs = readdirSync(path.join(store, 'slurm/logs'))
      .map((f) => readFileSync(path.join(store, 'slurm/logs', f), 'utf8'))
      .join('\n');
    expect(taskLogs).toContain(
      `run ${abandoned}: taking over the claim of pid 4242 on gpu-node-17`,
    );
    expect(taskLogs).toContain(`run ${busy}: taking over the claim of pid 4242 on gpu-node-17`);
    const busyRecord = new ResultsStore(store).read(busy);
    expect(Date.parse(busyRecord.startedAt)).toBeGreaterThanOrEqual(Date.parse(live.expiresAt!));

    expect(existsSync(path.join(store, 'report/index.html'))).toBe(true);
    expect(jobState(jobs.reportJob)).toBe('COMPLETED 0:0');
    const status = JSON.parse(prunefuse('slurm', 'status', store, '--json')) as {
      counts: Record<string, number>;
    };
    expect(status.counts).toEqual({ done: 4, running: 0, failed: 0, pending: 0 });
  }, 600_000);

  it('a task cancelled mid-run and resubmitted as it is completes the store, duplicating nothing', async () => {
    const store = path.join(dir, 'cancelled');
    const jobs = submitted(prunefuse('slurm', 'submit', config, '--tasks', '2', '--store', store));
    const status = () =>
      JSON.parse(prunefuse('slurm', 'status', store, '--json')) as {
        runs: Array<{ id: string; task: number; status: { state: string; stale?: boolean } }>;
      };
    const taskOne = status()
      .runs.filter((r) => r.task === 1)
      .map((r) => r.id);
    const results = new ResultsStore(store);
    let interrupted = '';
    await until(
      () => {
        interrupted =
          taskOne.find((id) => results.journal(id).some((e) => e.type === 'epoch')) ?? '';
        return interrupted !== '';
      },
      'task 1 to be inside a run',
      300_000,
    );
    slurm('scancel', [`${jobs.arrayJob}_1`]);
    await jobEnded(jobs.arrayJob);
    await jobEnded(jobs.reportJob);
    // The report job ran after the array, found the sweep incomplete and said so.
    expect(jobState(jobs.reportJob)).toBe('FAILED 1:0');
    expect(results.has(interrupted)).toBe(false);
    expect(status().runs.find((r) => r.id === interrupted)?.status).toMatchObject({
      state: 'running',
      stale: true,
    });

    const resubmitted = slurm('sbatch', [
      '--parsable',
      '--array=1',
      path.join(store, 'slurm/array.sh'),
    ]).trim();
    await jobEnded(resubmitted);

    expect(results.ids()).toEqual(ids);
    expect(figures(store)).toEqual(figures(reference));
    expect(starts(store)).toEqual(
      Object.fromEntries(ids.map((id) => [id, id === interrupted ? 2 : 1])),
    );
    expect(readdirSync(results.claimsDir)).toEqual([]);
    expect(readdirSync(results.journalsDir)).toEqual([]);
    expect(status().runs.map((r) => r.status.state)).toEqual(ids.map(() => 'done'));
  }, 600_000);
});
