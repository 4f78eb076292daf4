import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultsStore } from '@prunefuse/results';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  closedLoopbackUri,
  startFakeMlflow,
} from '../../tracking/test/fixtures/fake-mlflow-server.js';
import { registerMlflow } from '../src/commands/mlflow.js';
import { type RunDependencies, registerRun } from '../src/commands/run.js';
import type { ForwardMacs } from '../src/macs-estimate.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

const CONFIG = `
dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: [0.5, 0.7]
  - random
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 2 }
seeds: [1]
`;

const forwardMacs: ForwardMacs = (_arch, prune) => 1_000_000 * (1 - (prune ?? 0)) ** 2;

let dir: string;
let config: string;
let stderr: string;
let stdout: string;
let environmentCalls: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-run-'));
  config = path.join(dir, 'unit.yaml');
  writeFileSync(config, CONFIG);
  stdout = '';
  stderr = '';
  environmentCalls = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function dependencies(
  execute = fixtureExecutor({ epochMs: 1 }),
  commit = TEST_ENVIRONMENT.gitCommit,
): RunDependencies {
  return {
    executeRun: execute,
    describeDataset: describeTestDataset,
    forwardMacs,
    environment: async (backend) => {
      environmentCalls.push(backend);
      return { ...TEST_ENVIRONMENT, gitCommit: commit };
    },
    gitCommit: () => commit,
    progressStream: { isTTY: false, write: (chunk: string) => (stderr += chunk) },
  };
}

async function cli(args: string[], deps = dependencies()): Promise<void> {
  const program = new Command('prunefuse').exitOverride();
  registerRun(program, deps);
  registerMlflow(program);
  await program.parseAsync(['node', 'prunefuse', ...args]);
}

describe('prunefuse run --dry-run', () => {
  it('--json prints one document with the expanded runs, their status and estimated MACs', async () => {
    const out = path.join(dir, 'store');
    await cli(['run', config, '--dry-run', '--json', '--out', out]);
    const listing = JSON.parse(stdout) as {
      experiment: string;
      store: string;
      runs: Array<{
        id: string;
        method: string;
        options: string;
        status: string;
        estimatedMacs: { total: number };
      }>;
      pendingMacs: number;
    };
    expect(listing.experiment).toBe('unit');
    expect(listing.store).toBe(out);
    expect(listing.runs.map((r) => `${r.method} ${r.options} ${r.status}`)).toEqual([
      'prunefuse p=0.5 pending',
      'prunefuse p=0.7 pending',
      'random  pending',
    ]);
    expect(listing.pendingMacs).toBe(listing.runs.reduce((t, r) => t + r.estimatedMacs.total, 0));
    expect(listing.runs[1]!.estimatedMacs.total).toBeLessThan(listing.runs[0]!.estimatedMacs.total);
    expect(environmentCalls).toEqual([]);
    expect(ResultsStore.exists(out)).toBe(false);
  });

  it('shows what an interrupted run saved: targets, and the training it was in', async () => {
    const out = path.join(dir, 'store');
    const diesAfterItsTarget = fixtureExecutor({ epochMs: 1 });
    await cli(
      ['run', config, '--out', out, '--filter', 'method=random'],
      dependencies((runConfig, context) =>
        diesAfterItsTarget(runConfig, {
          ...context,
          checkpoints: {
            ...context.checkpoints!,
            save(targets) {
              context.checkpoints!.save(targets);
              // as if it had gone on to a next target, and been killed after 2 of its epochs
              context.checkpoints!.training.save('target/40/0123456789abcdef', {
                epochs: [0, 1].map((epoch) => ({
                  epoch,
                  lr: 0.1,
                  trainLoss: 1,
                  trainAccuracy: 0.5,
                  seconds: 1,
                })),
                examplesSeen: 160,
                optimizer: { layout: 'tfjs-velocities', values: new Float32Array(1) },
                weights: new Map(),
              });
              throw new Error('killed');
            },
          },
        }),
      ),
    );
    stdout = '';
    await cli(['run', config, '--dry-run', '--out', out]);
    expect(stdout.split('\n').filter((l) => l.includes('random'))).toEqual([
      expect.stringMatching(/ failed \(1\/1 targets saved, target training on 40 labelled after epoch 2\) /),
    ]);
    stdout = '';
    await cli(['run', config, '--dry-run', '--json', '--out', out]);
    const listing = JSON.parse(stdout) as {
      runs: Array<{
        method: string;
        saved: unknown;
        estimatedMacs: { total: number };
        macsToCompute: { total: number };
      }>;
      pendingMacs: number;
      macsToCompute: number;
    };
    expect(listing.runs.map((r) => [r.method, r.saved])).toEqual([
      ['prunefuse', { targets: 0, training: null }],
      ['prunefuse', { targets: 0, training: null }],
      ['random', { targets: 1, training: { network: 'target', labelled: 40, epochs: 2 } }],
    ]);
    // Its only target is saved: nothing left to compute; the others compute all they are charged.
    expect(listing.runs.map((r) => r.macsToCompute.total)).toEqual([
      listing.runs[0]!.estimatedMacs.total,
      listing.runs[1]!.estimatedMacs.total,
      0,
    ]);
    expect(listing.macsToCompute).toBe(listing.pendingMacs - listing.runs[2]!.estimatedMacs.total);
  });

  it('prints a table, honours --filter, and shows what the store already holds', async () => {
    const out = path.join(dir, 'store');
    await cli(['run', config, '--out', out, '--filter', 'method=random']);
    stdout = '';
    await cli(['run', config, '--dry-run', '--out', out]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^id\s+method\s+options\s+arch\s+acquisition\s+seed\s+milestones\s+status\s+est\. MACs\s+to compute$/,
    );
    expect(lines.filter((l) => /\bfinished\b/.test(l) && l.includes('random'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(' pending '))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^unit: 3 runs, 1 finished, 2 to run \(about .* MACs\); store /);

    stdout = '';
    await cli(['run', config, '--dry-run', '--json', '--filter', 'method.prune=0.7']);
    expect((JSON.parse(stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    await expect(cli(['run', config, '--dry-run', '--filter', 'prune=0.7'])).rejects.toThrow(
      "--filter: unknown field 'prune'",
    );
  });
});

describe('prunefuse run', () => {
  it('runs the sweep into --out, with --backend overriding the config, and resumes', async () => {
    const out = path.join(dir, 'store');
    await cli(['run', config, '--out', out, '--backend', 'cpu', '--json']);
    const summary = JSON.parse(stdout) as {
      executed: string[];
      failed: unknown[];
      store: string;
      mlflow: unknown;
    };
    expect(summary.executed).toHaveLength(3);
    expect(summary).toMatchObject({ failed: [], store: out, mlflow: null });
    expect(environmentCalls).toEqual(['cpu']);
    expect(new ResultsStore(out).records().map((r) => r.config.backend)).toEqual([
      'cpu',
      'cpu',
      'cpu',
    ]);
    expect(stderr).toContain('sweep: 3 runs to do, 0 already finished');
    expect(process.exitCode).toBeUndefined();

    stdout = '';
    await cli(['run', config, '--out', out]);
    expect(stdout).toMatch(
      /^unit: 3 runs: 0 executed, 3 already finished, 0 finished by another sweep, 0 failed/,
    );
    expect(environmentCalls).toEqual(['cpu']);
  });

  it('says when finished runs were computed at another commit, and --rerun-stale recomputes them', async () => {
    const out = path.join(dir, 'store');
    await cli(['run', config, '--out', out]);
    const later = 'fedcba9876543210fedcba9876543210fedcba98';
    stdout = '';
    stderr = '';
    await cli(['run', config, '--out', out, '--json'], dependencies(undefined, later));
    expect(stderr).toContain(
      '3 finished runs were computed at commit 0123456 (3); this checkout is fedcba9; ' +
        'the report marks groups that mix commits; --rerun-stale recomputes them',
    );
    const kept = JSON.parse(stdout) as { executed: string[]; stale: Array<{ commit: string }> };
    expect(kept.executed).toEqual([]);
    expect(kept.stale.map((s) => s.commit)).toEqual(Array(3).fill(TEST_ENVIRONMENT.gitCommit));

    stdout = '';
    await cli(
      ['run', config, '--out', out, '--rerun-stale', '--json'],
      dependencies(undefined, later),
    );
    const rerun = JSON.parse(stdout) as { executed: string[]; stale: unknown[] };
    expect(rerun.executed).toHaveLength(3);
    expect(rerun.stale).toEqual([]);
    const store = new ResultsStore(out);
    expect(store.records().map((r) => r.environment.gitCommit)).toEqual(Array(3).fill(later));
    // The old records are kept, with the reason beside each.
    const kept3 = readdirSync(store.staleDir);
    expect(kept3.filter((f) => f.endsWith('.json'))).toHaveLength(3);
    expect(kept3.filter((f) => f.endsWith('.reason.txt'))).toHaveLength(3);

    stderr = '';
    await cli(['run', config, '--out', out], dependencies(undefined, later));
    expect(stderr).not.toContain('were computed at commit');
  });

  it('ends with method x budget results on stderr, and puts them in --json', async () => {
    const out = path.join(dir, 'store');
    await cli(['run', config, '--out', out]);
    const table = stderr.slice(stderr.lastIndexOf('method  '));
    const [header, , ...rest] = table.trim().split('\n');
    const rows = rest.slice(0, -1);
    expect(rest.at(-1)).toBe(`report: ${path.join(out, 'report', 'index.html')}`);
    expect(header).toMatch(/^method\s+budget\s+accuracy %\s+selection MACs$/);
    expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['random', '1% (80)'],
      ['prunefuse p=0.5', '1% (80)'],
      ['prunefuse p=0.7', '1% (80)'],
    ]);
    expect(rows[0]).toMatch(/\d+\.\d\d \(n=1\)\s+-$/);
    expect(rows[1]).toMatch(/\d+\.\d\d \(n=1\)\s+\d[\d.]*( [kMGTPE])?$/);

    stdout = '';
    await cli(['run', config, '--out', out, '--json']);
    const { results } = JSON.parse(stdout) as {
      results: Array<{ method: string; labelled: number; accuracyPct: { n: number } }>;
    };
    expect(results.map((r) => [r.method, r.labelled, r.accuracyPct.n])).toEqual([
      ['random', 80, 1],
      ['prunefuse p=0.5', 80, 1],
      ['prunefuse p=0.7', 80, 1],
    ]);
  });

  it('exits non-zero when a run fails, after running the others', async () => {
    const out = path.join(dir, 'store');
    const failing = async () => {
      throw new Error('the loop broke');
    };
    await cli(['run', config, '--out', out], dependencies(failing));
    expect(process.exitCode).toBe(1);
    expect(stdout).toContain('3 failed');
    expect(stdout).toMatch(/failed [0-9a-f]{12}: the loop broke/);
    expect(new ResultsStore(out).failures()).toHaveLength(3);
  });

  it('tracks to --mlflow, and `mlflow sync` finds nothing left to upload', async () => {
    const server = await startFakeMlflow();
    try {
      const out = path.join(dir, 'store');
      await cli(['run', config, '--out', out, '--mlflow', server.uri, '--json']);
      expect(JSON.parse(stdout).mlflow).toEqual({
        trackingUri: server.uri,
        ok: true,
        error: null,
        sync: null,
      });
      expect([...server.runs.values()].map((r) => r.info.status)).toEqual([
        'FINISHED',
        'FINISHED',
        'FINISHED',
      ]);
      stdout = '';
      await cli(['mlflow', 'sync', out, '--mlflow', server.uri, '--json']);
      expect(JSON.parse(stdout)).toMatchObject({
        uploaded: [],
        failed: [],
        trackingUri: server.uri,
      });
      expect(JSON.parse(stdout).alreadySynced).toHaveLength(3);
      await expect(
        cli(['mlflow', 'sync', path.join(dir, 'nowhere'), '--mlflow', server.uri]),
      ).rejects.toThrow('not a results store');
    } finally {
      await server.close();
    }
  });

  it('--mlflow that fails: the sweep completes, then exits 1 naming the failure and the sync command', async () => {
    const closed = await closedLoopbackUri();
    const out = path.join(dir, 'store');
    await cli(['run', config, '--out', out, '--mlflow', closed.uri]);
    expect(new ResultsStore(out).ids()).toHaveLength(3);
    const refused =
      `MLflow GET ${closed.uri}/api/2.0/mlflow/experiments/get-by-name: ECONNREFUSED: ` +
      `connect ECONNREFUSED 127.0.0.1:${closed.port}; ` +
      'nothing listens there: is the MLflow server running, on that host and port?';
    const sync = `pnpm prunefuse mlflow sync ${out} --mlflow ${closed.uri}`;
    expect(stdout).toContain(
      `MLflow tracking failed, not all runs reached ${closed.uri}: ${refused}\n` +
        `  upload them with: ${sync} (or pass --mlflow-optional to only warn)`,
    );
    expect(process.exitCode).toBe(1);

    process.exitCode = undefined;
    stdout = '';
    rmSync(out, { recursive: true });
    await cli(['run', config, '--out', out, '--mlflow', closed.uri, '--mlflow-optional', '--json']);
    expect(JSON.parse(stdout).mlflow).toEqual({
      trackingUri: closed.uri,
      ok: false,
      error: refused,
      sync,
    });
    expect(process.exitCode).toBeUndefined();
  });

  it('refuses a tracking URI that is not http(s)://host:port before creating the store', async () => {
    const out = path.join(dir, 'store');
    await expect(cli(['run', config, '--out', out, '--mlflow', '127.0.0.1:5000'])).rejects.toThrow(
      "MLflow tracking URI '127.0.0.1:5000' (from --mlflow) is not a URL; expected http(s)://host:port, e.g. http://127.0.0.1:5000",
    );
    expect(ResultsStore.exists(out)).toBe(false);
    vi.stubEnv('MLFLOW_TRACKING_URI', 'localhost:5000');
    try {
      await expect(cli(['mlflow', 'sync', dir])).rejects.toThrow(
        "MLflow tracking URI 'localhost:5000' (from $MLFLOW_TRACKING_URI) has the scheme 'localhost:'; expected http(s)://host:port",
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('prunefuse run --shard', () => {
  it('n processes given shards 0/n..n-1/n execute every run exactly once between them', async () => {
    const out = path.join(dir, 'store');
    const executed: string[][] = [];
    for (const shard of ['0/2', '1/2']) {
      stdout = '';
      await cli(['run', config, '--out', out, '--shard', shard, '--json']);
      const summary = JSON.parse(stdout) as { shard: unknown; executed: string[] };
      expect(summary.shard).toEqual({ index: Number(shard[0]), count: 2 });
      executed.push(summary.executed);
    }
    expect(executed.map((ids) => ids.length)).toEqual([2, 1]);
    expect(executed.flat().sort()).toEqual(new ResultsStore(out).ids());
    expect(new ResultsStore(out).ids()).toHaveLength(3);
  });

  it('reads a Slurm array task from the environment with --shard auto', async () => {
    const out = path.join(dir, 'store');
    vi.stubEnv('SLURM_ARRAY_TASK_ID', '2');
    vi.stubEnv('SLURM_ARRAY_TASK_COUNT', '3');
    await cli(['run', config, '--out', out, '--shard', 'auto', '--dry-run', '--json']);
    vi.unstubAllEnvs();
    const listing = JSON.parse(stdout) as { shard: unknown; runs: unknown[] };
    expect(listing.shard).toEqual({ index: 2, count: 3 });
    expect(listing.runs).toHaveLength(1);
  });
});

describe('the prunefuse CLI', () => {
  it('reports a bad config on stderr with file, line and field, exit 1, nothing on stdout', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, CONFIG.replace('prune: [0.5, 0.7]', 'prune: [0.5, 1.7]'));
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const result = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        tsx,
        path.join(root, 'packages/runner/src/bin.ts'),
        'run',
        bad,
        '--dry-run',
        '--json',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `${bad}:6:18: methods[0].prune[1]: expected a number strictly between 0 and 1, got 1.7`,
    );
  });
});
