import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchesFilter } from '@prunefuse/engine';
import { prunedSpec } from '@prunefuse/prunefuse';
import { kernelOps } from '@prunefuse/webgpu-trainer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/gpu-check.sh', import.meta.url));

/**
 * A stand-in for the bundle: prints one JSON document naming the command, its arguments
 * PRUNEFUSE_WEBGPU_TRAINER and PRUNEFUSE_TILES; `verify --model resnet18` fails (exit 1, as a FAIL does),
 * `bench --tune FILE` writes FILE.
 */
const FAKE_CLI = `import { writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const tune = args.indexOf('--tune');
if (tune >= 0) writeFileSync(args[tune + 1], '{}');
if (!args.includes('--json')) {
  console.log('text output of ' + args[0]);
  process.exit(0);
}
const trainer = process.env.PRUNEFUSE_WEBGPU_TRAINER ?? null;
const tiles = process.env.PRUNEFUSE_TILES ?? null;
console.log(JSON.stringify({ command: args[0], args, trainer, tiles }));
if (args[0] === 'verify' && args.includes('resnet18')) process.exit(1);
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-gpu-check-'));
  writeFileSync(path.join(dir, 'prunefuse.mjs'), FAKE_CLI);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function gpuCheck(env: Record<string, string>, ...extra: string[]) {
  const out = path.join(dir, 'out');
  const run = spawnSync('bash', [SCRIPT, dir, out, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { ...run, out };
}

interface Invocation {
  command: string;
  args: string[];
  trainer: string | null;
  tiles: string | null;
}

const read = <T>(out: string, file: string) =>
  JSON.parse(readFileSync(path.join(out, file), 'utf8')) as T;

describe('gpu-check.sh', () => {
  it('runs every check into at most eight files, carries on past a failure and exits 1 naming it', () => {
    const { status, stderr, out } = gpuCheck({ PF_PYTHON: 'python3' });
    expect(status).toBe(1);
    expect(stderr).toMatch(/^failed: verify resnet18 \(exit 1\)$/m);
    expect(readdirSync(out).sort()).toEqual([
      'backends.json',
      'bench-kernels.json',
      'bench-tfjs.json',
      'bench.json',
      'host.cpuprofile',
      'profile.json',
      'tiles.json',
      'verify.json',
    ]);
    // The tile search ran first, and every measurement after it used its table.
    const tiles = path.join(out, 'tiles.json');
    expect(read<Invocation[]>(out, 'profile.json').map((i) => i.tiles)).toEqual([tiles, tiles]);
    expect(read<Invocation>(out, 'bench.json').tiles).toBe(tiles);
    expect(read<Invocation>(out, 'bench-kernels.json').tiles).toBe(tiles);
    const verify = read<Invocation[]>(out, 'verify.json');
    const flags = (i: Invocation) => i.args.join(' ');
    expect(verify.map(flags)).toEqual([
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet20 --reference float64',
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet20 --reference cpu',
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet20 --prune 0.5 --reference float64',
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet18 --reference float64',
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet20 --prune 0.5 --kd --reference cpu',
    ]);
    expect(read<Invocation[]>(out, 'profile.json').map(flags)).toEqual([
      'profile --backend webgpu --model resnet20 --batch 128 --steps 5 --json',
      'profile --backend webgpu --model resnet56 --batch 128 --steps 5 --json',
    ]);
    const bench = read<Invocation>(out, 'bench.json');
    expect(flags(bench)).toBe(
      'bench --backend webgpu --batch 128 --time 2000 --json --filter model/ --pytorch python3',
    );
    expect(bench.trainer).toBeNull();
    expect(read<Invocation>(out, 'bench-tfjs.json').trainer).toBe('tfjs');
    const kernels = read<Invocation>(out, 'bench-kernels.json');
    expect(kernels.args).toContain('--pytorch');
    // The default kernel filter picks the CIFAR ResNets' conv and batch-norm cases, all of them.
    const filter = kernels.args[kernels.args.indexOf('--filter') + 1]!;
    const names = kernelOps({ prune: prunedSpec }).map((op) => op.name);
    const cifar = names.filter((n) => /^kernel\/(conv|batchnorm)\/.*\/cifar\//.test(n));
    expect(cifar.length).toBeGreaterThan(0);
    expect(names.filter((n) => matchesFilter(n, filter))).toEqual(cifar);
  });

  it('sizes come from the environment; PF_TUNE= skips the tile search', () => {
    const { status, out } = gpuCheck({
      PF_BATCH: '2',
      PF_VERIFY: 'kd',
      PF_VERIFY_BATCH: '2',
      PF_MODELS: 'resnet8',
      PF_KERNEL_FILTER: '',
      PF_TUNE: '',
    });
    expect(status).toBe(0);
    expect(readdirSync(out)).not.toContain('tiles.json');
    expect(read<Invocation[]>(out, 'profile.json')[0]!.tiles).toBeNull();
    expect(readdirSync(out)).not.toContain('bench-kernels.json');
    expect(read<Invocation[]>(out, 'verify.json').map((i) => i.args.join(' '))).toEqual([
      'verify --backend webgpu --batch 2 --python python3 --json --model resnet20 --prune 0.5 --kd --reference cpu',
    ]);
    expect(read<Invocation[]>(out, 'profile.json')[0]!.args).toContain('resnet8');
  });

  it('skips the steps whose variable is set to empty (a rerun of what a first run missed)', () => {
    const { status, out } = gpuCheck({
      PF_TUNE: '',
      PF_MODELS: '',
      PF_BENCH_FILTER: '',
      PF_KERNEL_FILTER: '',
      PF_VERIFY: 'resnet20',
    });
    expect(status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['backends.json', 'host.cpuprofile', 'verify.json']);
    expect(read<Invocation[]>(out, 'verify.json')).toHaveLength(1);
  });

  it('refuses a baseline bundle together with the tile search (nine files), before running anything', () => {
    const { status, stderr, out } = gpuCheck({}, path.join(dir, 'baseline.mjs'));
    expect(status).toBe(2);
    expect(stderr).toMatch(/nine files; the GPU machine returns eight: set PF_TUNE= /);
    expect(() => readdirSync(out)).toThrow();
  });
});
