import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pointAtFiles } from '@prunefuse/data';
import { type MacsByPhase, ResultsStore } from '@prunefuse/results';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildCli } from '../src/cli.js';
import { fitLastColumn } from '../src/commands/backends.js';
import { checkTorchImports, registerBench } from '../src/commands/bench.js';
import { registerFlops } from '../src/commands/flops.js';
import { type RunDependencies, registerRun } from '../src/commands/run.js';
import { formatTable } from '../src/output.js';
import { cachedStepRates, estimateSeconds, type Workload } from '../src/wall-estimate.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

let stdout: string;
let stderr: string;
let dir: string;

beforeEach(() => {
  stdout = '';
  stderr = '';
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-cli-'));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(register: (program: Command) => void, args: string[]): Promise<void> {
  const program = new Command('prunefuse').exitOverride();
  register(program);
  await program.parseAsync(['node', 'prunefuse', ...args]);
}

describe('prunefuse flops', () => {
  it('prints the dense and pruned networks and the ratio between them', async () => {
    await cli(registerFlops, ['flops', '--arch', 'resnet20', '--prune', '0.5']);
    const [title, dense, pruned, ratio] = stdout.split('\n');
    expect(title).toBe('resnet20, input 32x32x3, 10 classes');
    expect(dense).toMatch(/^ {2}dense: +0\.27\d M params, 41\.\d+ M MACs per example$/);
    expect(pruned).toMatch(/^ {2}pruned p=0\.5: 0\.0\d+ M params, \d+\.\d+ M MACs per example$/);
    // Halving every prunable group leaves about a quarter of the MACs.
    expect(ratio).toMatch(
      /^ {2}pruned\/dense: 0\.2\d\d of the params, 0\.2\d\d of the MACs \(\d\.\dx fewer MACs\)$/,
    );

    stdout = '';
    await cli(registerFlops, ['flops', '--arch', 'resnet20', '--prune', '0.5', '--json']);
    const json = JSON.parse(stdout) as {
      params: number;
      macs: number;
      dense: { params: number; macs: number };
      ratio: { params: number; macs: number };
    };
    expect(json.ratio.macs).toBeCloseTo(json.macs / json.dense.macs, 12);
    expect(json.ratio.params).toBeCloseTo(json.params / json.dense.params, 12);
    expect(json.dense.macs).toBeGreaterThan(json.macs);
  });

  it('shows only the dense network when nothing is pruned', async () => {
    await cli(registerFlops, ['flops', '--arch', 'resnet20']);
    expect(stdout).toContain('  dense: ');
    expect(stdout).not.toContain('pruned');
  });
});

describe('prunefuse --version', () => {
  it('prints the version, the git commit and the tfjs version, and exits 0', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => {
      throw new Error('exited');
    }) as never);
    await expect(buildCli().parseAsync(['node', 'prunefuse', '--version'])).rejects.toThrow(
      'exited',
    );
    expect(exit).toHaveBeenCalledWith(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^prunefuse \d+\.\d+\.\d+$/);
    expect(lines[1]).toMatch(/^commit ([0-9a-f]{40}(-dirty)?|unknown .*)$/);
    expect(lines[2]).toMatch(/^tfjs 4\.\d+\.\d+$/);
  });
});

describe('prunefuse backends', () => {
  it('cuts the device / reason column so that no line of the table passes 100 columns', () => {
    const header = ['backend', 'available', 'selected', 'device / reason'];
    const rows = [
      ['tensorflow', 'no', '', `not installed; ${'run this and that '.repeat(12)}`],
      ['wasm', 'yes', '*', 'CPU (WebAssembly SIMD, XNNPACK, 2 threads)'],
    ];
    const fitted = fitLastColumn(header, rows, 100);
    const widths = formatTable(header, fitted)
      .split('\n')
      .map((line) => line.length);
    expect(Math.max(...widths)).toBe(100);
    expect(fitted[0]!.at(-1)).toMatch(/^not installed; run this .*…$/);
    // Short cells are left whole.
    expect(fitted[1]).toEqual(rows[1]);
  });
});

describe('prunefuse bench --pytorch', () => {
  it('checks that the interpreter imports torch before measuring anything', async () => {
    const noTorch = path.join(dir, 'python-without-torch');
    writeFileSync(
      noTorch,
      '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n',
    );
    chmodSync(noTorch, 0o755);
    await expect(
      cli(registerBench, ['bench', '--filter', 'model/', '--pytorch', noTorch]),
    ).rejects.toThrow(
      `--pytorch: '${noTorch}' cannot import torch (ModuleNotFoundError: No module named 'torch'); nothing was measured`,
    );
    // Not one case was timed: the bench prints a line per case as it goes.
    expect(stderr).toBe('');

    expect(() => checkTorchImports(path.join(dir, 'no-such-python'))).toThrow(
      /could not start '.*no-such-python': .*ENOENT/,
    );
    const withTorch = path.join(dir, 'python-with-torch');
    writeFileSync(withTorch, '#!/bin/sh\nexit 0\n');
    chmodSync(withTorch, 0o755);
    expect(() => checkTorchImports(withTorch)).not.toThrow();
  });
});

function runDependenciesFor(): RunDependencies {
  return {
    executeRun: fixtureExecutor({ epochMs: 1 }),
    describeDataset: describeTestDataset,
    forwardMacs: () => 1_000_000,
    environment: async () => TEST_ENVIRONMENT,
    gitCommit: () => TEST_ENVIRONMENT.gitCommit,
    progressStream: { isTTY: false, write: (chunk: string) => (stderr += chunk) },
  };
}

describe('prunefuse run --data-dir', () => {
  const CIFAR_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');

  it('reads the files from the folder it names, and says every way to name one when they are missing', async () => {
    const config = path.join(dir, 'cifar.yaml');
    writeFileSync(
      config,
      'dataset: { name: cifar10, trainSubset: 2000 }\narch: resnet20\nmethods: [random]\n' +
        'budget: { initial: 100, milestones: [200], roundSize: 100 }\nseeds: [0]\nreport: false\n',
    );
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const out = path.join(dir, 'store');
    const run = (dataDir: string) =>
      cli(
        (program) => registerRun(program, runDependenciesFor()),
        ['run', config, '--out', out, '--data-dir', dataDir],
      );
    await expect(run(empty)).rejects.toThrow(
      `dataset cifar10: ${empty} lacks ${CIFAR_FILES.join(', ')}; ${pointAtFiles('cifar10', empty)}`,
    );

    const cifar = path.join(dir, 'cifar');
    mkdirSync(cifar);
    for (const file of CIFAR_FILES) writeFileSync(path.join(cifar, file), '');
    await run(cifar);
    const [record] = new ResultsStore(out).records();
    expect(record!.config.dataset.dataDir).toBe(cifar);
  });
});

describe('prunefuse run --dry-run wall-time estimate', () => {
  const workload: Workload = {
    backend: 'wasm',
    device: 'test CPU',
    arch: 'resnet8-digits',
    input: { height: 28, width: 28, channels: 1 },
    batch: 32,
  };

  it('measures a workload once per machine and backend, then reads it from the cache', async () => {
    const file = path.join(dir, 'cache', 'step-rates.json');
    const measured: Workload[] = [];
    const measure = async (w: Workload) => {
      measured.push(w);
      return { trainMacsPerSecond: 1e9, inferMacsPerSecond: 4e9 };
    };
    const first = await cachedStepRates(workload, measure, file);
    const again = await cachedStepRates(workload, measure, file);
    const otherBackend = await cachedStepRates({ ...workload, backend: 'cpu' }, measure, file);
    expect([first.cached, again.cached, otherBackend.cached]).toEqual([false, true, false]);
    expect(measured.map((w) => w.backend)).toEqual(['wasm', 'cpu']);
    expect(again.trainMacsPerSecond).toBe(1e9);
    // Training phases at the training rate, scoring at inference's.
    const macs = { selectorTraining: 2e9, poolScoring: 8e9, targetTraining: 3e9, total: 13e9 };
    expect(estimateSeconds(macs, again)).toBeCloseTo(5 + 2, 12);
  });

  it('prints an estimated time per run and for the sweep beside the MACs', async () => {
    const config = path.join(dir, 'unit.yaml');
    writeFileSync(
      config,
      'dataset: { name: mnist, trainSubset: 400 }\narch: resnet8-digits\n' +
        'methods: [random, active-learning]\nbudget: { initial: 40, milestones: [80], roundSize: 40 }\n' +
        'training: { epochs: 2 }\nseeds: [1]\n',
    );
    const rates = { trainMacsPerSecond: 1e8, inferMacsPerSecond: 1e9, cached: true };
    const deps: RunDependencies = {
      ...runDependenciesFor(),
      stepRates: async () => rates,
    };
    const out = path.join(dir, 'store');
    await cli(
      (program) => registerRun(program, deps),
      ['run', config, '--dry-run', '--json', '--out', out],
    );
    const listing = JSON.parse(stdout) as {
      runs: { id: string; macsToCompute: MacsByPhase; secondsToCompute: number }[];
      pendingSeconds: number;
      calibrations: { arch: string; batch: number }[];
    };
    // The time of what each run computes (all of it here: no two runs share a selection).
    for (const run of listing.runs) {
      expect(run.secondsToCompute).toBeCloseTo(estimateSeconds(run.macsToCompute, rates), 9);
    }
    expect(listing.pendingSeconds).toBeCloseTo(
      listing.runs.reduce((t, r) => t + r.secondsToCompute, 0),
      9,
    );
    expect(listing.calibrations.map((c) => c.arch)).toEqual(['resnet8-digits']);

    stdout = '';
    await cli((program) => registerRun(program, deps), ['run', config, '--dry-run', '--out', out]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/\sest\. MACs\s+to compute\s+est\. time$/);
    expect(lines.at(-1)).toMatch(
      /^unit: 2 runs, 0 finished, 2 to run \(about .* MACs, about \d+(m\d\ds|s) here\)/,
    );
    expect(stderr).toContain('resnet8-digits 28x28x1, batch 128, on cpu');
  });
});
