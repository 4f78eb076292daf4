import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore, type RunRecord } from '@prunefuse/results';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunDependencies, registerRun } from '../src/commands/run.js';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import type { ExecuteRun } from '../src/sweep.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

// Faults a user met (issue 16), each injected into a store, with what `run` must do now.

const CONFIG = `
dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning, random]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 1 }
seeds: [1, 2]
report: false
`;

let dir: string;
let config: string;
let out: string;
let stdout: string;
let stderr: string;
let executed: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-faults-'));
  config = path.join(dir, 'faults.yaml');
  out = path.join(dir, 'store');
  writeFileSync(config, CONFIG);
  stdout = '';
  stderr = '';
  executed = [];
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

const ids = () =>
  expandSweep(parseExperiment(config, CONFIG), describeTestDataset).runs.map((r) => r.id);

function dependencies(overrides: Partial<RunDependencies> = {}): RunDependencies {
  const fixture = fixtureExecutor({ epochMs: 1 });
  return {
    executeRun: (runConfig, context) => {
      executed.push(context.id);
      return fixture(runConfig, context);
    },
    describeDataset: describeTestDataset,
    forwardMacs: () => 1_000_000,
    environment: async () => TEST_ENVIRONMENT,
    gitCommit: () => TEST_ENVIRONMENT.gitCommit,
    progressStream: { isTTY: false, write: (chunk: string) => (stderr += chunk) },
    ...overrides,
  };
}

async function run(args: string[] = [], deps = dependencies()): Promise<void> {
  const program = new Command('prunefuse').exitOverride();
  registerRun(program, deps);
  await program.parseAsync(['node', 'prunefuse', 'run', config, '--out', out, ...args]);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('damaged records (fault 1, 2)', () => {
  it('--dry-run calls them damaged; run moves them aside with the reason, computes them again, and leaves a valid store', async () => {
    await run();
    const store = new ResultsStore(out);
    const [truncated, empty, noTargets, badSeed] = ids() as [string, string, string, string];
    const original = readFileSync(store.recordPath(truncated), 'utf8');
    writeFileSync(store.recordPath(truncated), original.slice(0, original.length / 2));
    writeFileSync(store.recordPath(empty), '');
    const record = JSON.parse(readFileSync(store.recordPath(noTargets), 'utf8')) as RunRecord;
    writeFileSync(store.recordPath(noTargets), JSON.stringify({ ...record, targets: undefined }));
    const other = JSON.parse(readFileSync(store.recordPath(badSeed), 'utf8')) as RunRecord;
    writeFileSync(
      store.recordPath(badSeed),
      JSON.stringify({ ...other, config: { ...other.config, seed: 'zero' } }),
    );

    stdout = '';
    await run(['--dry-run', '--json']);
    const listing = JSON.parse(stdout) as { runs: Array<{ id: string; status: string }> };
    expect(listing.runs.map((r) => r.status)).toEqual(['damaged', 'damaged', 'damaged', 'damaged']);

    stdout = '';
    executed = [];
    await run(['--json']);
    const summary = JSON.parse(stdout) as { executed: string[]; failed: unknown[] };
    expect(summary.failed).toEqual([]);
    expect(executed.sort()).toEqual(ids().sort());
    expect(store.records().map((r) => r.id)).toEqual(ids().sort());
    expect(store.index().map((e) => e.id)).toEqual(ids().sort());
    const moved = readdirSync(store.damagedDir);
    expect(moved.filter((f) => f.endsWith('.json'))).toHaveLength(4);
    expect(moved.filter((f) => f.endsWith('.reason.txt'))).toHaveLength(4);
    const reason = (id: string) =>
      readFileSync(
        path.join(store.damagedDir, moved.find((f) => f.startsWith(id) && f.endsWith('.txt'))!),
        'utf8',
      );
    expect(reason(noTargets)).toContain(
      'targets: Invalid input: expected array, received undefined',
    );
    expect(reason(badSeed)).toContain(
      'config.seed: Invalid input: expected number, received string',
    );
    expect(reason(empty)).toContain(`${store.recordPath(empty)}: not valid JSON`);
    // the bytes a user may want back are kept as they were
    expect(
      readFileSync(
        path.join(
          store.damagedDir,
          moved.find((f) => f.startsWith(truncated) && f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ).toBe(original.slice(0, original.length / 2));
    expect(stderr).toContain(`run ${empty}: damaged record moved to ${store.damagedDir}`);
  });
});

describe('the index (fault 4)', () => {
  it('a corrupt index.json fails no run, is rebuilt, and leaves no failures behind', async () => {
    const [first] = ids() as [string];
    await run(['--filter', `id=${first}`]);
    const store = new ResultsStore(out);
    writeFileSync(store.indexFile, '{"schema": 1, "runs": [{"id": "x"');
    stdout = '';
    await run(['--json']);
    const summary = JSON.parse(stdout) as { executed: string[]; failed: unknown[] };
    expect(summary.failed).toEqual([]);
    expect(summary.executed).toHaveLength(3);
    expect(process.exitCode).toBeUndefined();
    const onDisk = JSON.parse(readFileSync(store.indexFile, 'utf8')) as { runs: { id: string }[] };
    expect(onDisk.runs.map((e) => e.id)).toEqual(ids().sort());
    expect(readdirSync(store.failuresDir)).toEqual([]);
  });
});

describe('crash leftovers (fault 5)', () => {
  it('adopts a complete record a killed writer left in its temporary file, removes the rest, and computes only what is missing', async () => {
    await run();
    const store = new ResultsStore(out);
    const [adopted, torn, finished] = ids() as [string, string, string];
    const dead = deadPid();
    const host = os.hostname();
    // killed between flushing the record and renaming it into place
    const complete = readFileSync(store.recordPath(adopted), 'utf8');
    rmSync(store.recordPath(adopted));
    writeFileSync(`${store.recordPath(adopted)}.${host}.${dead}.0a1b2c3d.tmp`, complete);
    // killed while writing the record: computed again
    const partial = readFileSync(store.recordPath(torn), 'utf8');
    rmSync(store.recordPath(torn));
    writeFileSync(`${store.recordPath(torn)}.${host}.${dead}.0a1b2c3e.tmp`, partial.slice(0, 100));
    // killed after its record was written: lock and journal stay behind
    writeFileSync(
      path.join(store.claimsDir, `${finished}.lock`),
      JSON.stringify({ pid: dead, hostname: host, startedAt: '', token: 'feedfacefeedface' }),
    );
    appendFileSync(
      store.journalPath(finished),
      `${JSON.stringify({ type: 'start', id: finished, pid: dead, hostname: host, at: '' })}\n`,
    );
    writeFileSync(`${store.indexFile}.${host}.${dead}.0a1b2c3f.tmp`, '{"sche');

    executed = [];
    stdout = '';
    await run(['--json']);
    expect(executed).toEqual([torn]);
    expect(readFileSync(store.recordPath(adopted), 'utf8')).toBe(complete);
    expect(store.records().map((r) => r.id)).toEqual(ids().sort());
    expect(store.index().map((e) => e.id)).toEqual(ids().sort());
    expect(readdirSync(store.runsDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
    expect(readdirSync(store.claimsDir)).toEqual([]);
    expect(readdirSync(store.journalsDir)).toEqual([]);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(stderr).toContain(
      `adopted the record a killed sweep left: ${store.recordPath(adopted)}.${host}.${dead}`,
    );
    expect(stderr).toContain(`(claim of dead pid ${dead})`);
    expect(stderr).toContain('(journal of a finished run)');
  });
});

describe('pre-flight (fault 12)', () => {
  it('refuses a sweep that cannot start with one message per distinct problem, and creates no store', async () => {
    const cifar = path.join(dir, 'cifar');
    writeFileSync(
      config,
      `dataset: { name: cifar10, dataDir: ${cifar} }
arch: [resnet20, resnet8-digits]
methods: [active-learning, random]
budget: { initial: 1000, milestones: [2000], roundSize: 1000 }
seeds: [1, 2, 3]
`,
    );
    const unavailable = dependencies({
      environment: async (backend) => {
        throw new Error(`backend ${backend} is not available here: no GPU adapter`);
      },
    });
    const failure = run(['--backend', 'webgpu'], unavailable);
    await expect(failure).rejects.toThrow(
      /the sweep cannot start \(2 problems; nothing was created\)/,
    );
    const message = await failure.then(
      () => '',
      (error: Error) => error.message,
    );
    // one line per distinct problem, though every run of the sweep has both
    expect(message.split('\n').slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^  dataset cifar10: ${cifar.replaceAll('/', '\\/')} lacks data_batch_1\\.bin, data_batch_2\\.bin, ` +
            'data_batch_3\\.bin, data_batch_4\\.bin, data_batch_5\\.bin, test_batch\\.bin; .*prunefuse data fetch cifar10',
        ),
      ),
      '  backend webgpu: backend webgpu is not available here: no GPU adapter',
    ]);
    expect(existsSync(out)).toBe(false);
    expect(executed).toEqual([]);
  });
});

describe('divergence (fault 7)', () => {
  it('prints the runs whose targets diverged at the end of the sweep and lists them in --json', async () => {
    const fixture = fixtureExecutor({ epochMs: 1 });
    const [blownUp] = ids() as [string];
    const diverging: ExecuteRun = async (runConfig, context) => {
      const record = await fixture(runConfig, context);
      if (context.id === blownUp) {
        record.targets[0]!.diverged = { reason: 'test accuracy 0.098 at chance (1/10 classes)' };
      }
      return record;
    };
    await run([], dependencies({ executeRun: diverging }));
    expect(stdout).toContain('1 target(s) diverged: their figures are those of a broken model');
    expect(stdout).toMatch(
      new RegExp(
        `  diverged ${blownUp} \\(active-learning .*seed 1\\) at 80 labelled: test accuracy 0\\.098 at chance`,
      ),
    );
    stdout = '';
    await run(['--json'], dependencies({ executeRun: diverging }));
    expect((JSON.parse(stdout) as { diverged: unknown[] }).diverged).toEqual([
      expect.objectContaining({ id: blownUp, labelled: 80 }),
    ]);
  });
});
