import { useBackend } from '@prunefuse/engine';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerBench } from '../src/commands/bench.js';
import { registerProfile } from '../src/commands/profile.js';
import { registerVerify } from '../src/commands/verify.js';

/** Where Dawn finds an adapter (Mesa's llvmpipe on a dev machine): else these are skipped. */
async function webgpuAvailable(): Promise<boolean> {
  try {
    await useBackend('webgpu');
    return true;
  } catch (error) {
    console.warn(`skipping the compiled-trainer commands: ${(error as Error).message}`);
    return false;
  }
}

const webgpu = await webgpuAvailable();
let stdout: string;

beforeEach(() => {
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  delete process.env.PRUNEFUSE_WEBGPU_TRAINER;
});

async function cli(register: (program: Command) => void, args: string[]): Promise<void> {
  const program = new Command('prunefuse').exitOverride();
  register(program);
  await program.parseAsync(['node', 'prunefuse', ...args]);
}

/** A small workload: ResNet-8 at MNIST shape, batch 2. */
const SMALL = ['--model', 'resnet8', '--shape', 'mnist', '--batch', '2'];

interface VerifyJson {
  trainer: string;
  reference: string;
  loss: { relativeError: number };
  updates: { name: string; relativeError: number }[];
  gradients: { name: string; relativeError: number }[];
  prune?: number;
  kd?: { lambda: number; temperature: number };
  pass: boolean;
}

describe.skipIf(!webgpu)('verify --backend webgpu: the compiled trainer', () => {
  it('passes a pruned distillation step against the cpu backend, gradients included, and fails at a tolerance below float32 rounding', async () => {
    const args = [
      'verify',
      '--backend',
      'webgpu',
      '--reference',
      'cpu',
      ...SMALL,
      '--prune',
      '0.5',
      '--kd',
      '--json',
    ];
    await cli(registerVerify, args);
    const passed = JSON.parse(stdout) as VerifyJson;
    expect(passed).toMatchObject({
      trainer: 'compiled',
      reference: 'cpu',
      prune: 0.5,
      kd: { lambda: 0.5, temperature: 4 },
      pass: true,
    });
    expect(passed.gradients.length).toBeGreaterThan(0);
    expect(passed.gradients.length).toBeLessThan(passed.updates.length);
    expect(process.exitCode ?? 0).toBe(0);

    stdout = '';
    await cli(registerVerify, [...args.filter((a) => a !== '--json'), '--tolerance', '1e-12']);
    expect(stdout).toMatch(/compiled webgpu trainer against cpu, tolerance 1e-12/);
    expect(stdout).toMatch(/^gradient +relative error$/m);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('FAIL');
    expect(process.exitCode).toBe(1);
  });

  it('PRUNEFUSE_WEBGPU_TRAINER=tfjs checks tfjs ops instead, which --prune does not apply to', async () => {
    process.env.PRUNEFUSE_WEBGPU_TRAINER = 'tfjs';
    await expect(
      cli(registerVerify, ['verify', '--backend', 'webgpu', ...SMALL, '--prune', '0.5']),
    ).rejects.toThrow(/--prune checks the compiled trainer.*PRUNEFUSE_WEBGPU_TRAINER=tfjs/);
  });
});

describe.skipIf(!webgpu)('profile --backend webgpu: the compiled trainer', () => {
  it('reports dispatches, host encode time and GPU time per kernel, or says timestamps are unavailable', async () => {
    await cli(registerProfile, [
      'profile',
      '--backend',
      'webgpu',
      ...SMALL,
      '--steps',
      '1',
      '--json',
    ]);
    const profile = JSON.parse(stdout) as {
      trainer: string;
      dispatchesPerStep: number;
      hostEncodeMs: number;
      gpu: { unavailable: string } | { totalMs: number; kernels: { calls: number }[] };
    };
    expect(profile.trainer).toBe('compiled');
    expect(profile.dispatchesPerStep).toBeGreaterThan(0);
    expect(profile.hostEncodeMs).toBeGreaterThan(0);
    if ('unavailable' in profile.gpu) {
      expect(profile.gpu.unavailable).toMatch(/timestamp-query/);
    } else {
      const calls = profile.gpu.kernels.reduce((sum, k) => sum + k.calls, 0);
      expect(calls).toBe(profile.dispatchesPerStep);
    }

    stdout = '';
    await cli(registerProfile, ['profile', '--backend', 'webgpu', ...SMALL, '--steps', '1']);
    expect(stdout).toMatch(/\(compiled trainer\)/);
    expect(stdout).toMatch(/^\d+ dispatches per step over \d+ pipelines; host encode [\d.]+ ms/m);
    expect(stdout).toMatch(/GPU time per kernel (\(timestamp queries|: unavailable)/);
  });
});

describe.skipIf(!webgpu)('bench --backend webgpu: model cases', () => {
  it('measure the compiled trainer at the batch asked for, and tfjs ops under PRUNEFUSE_WEBGPU_TRAINER=tfjs', async () => {
    const args = ['bench', '--backend', 'webgpu', '--filter', 'model/resnet20/infer/mnist'];
    for (const trainer of ['compiled', 'tfjs']) {
      if (trainer === 'tfjs') process.env.PRUNEFUSE_WEBGPU_TRAINER = 'tfjs';
      stdout = '';
      await cli(registerBench, [...args, '--batch', '2', '--time', '1', '--json']);
      const bench = JSON.parse(stdout) as {
        backends: { name: string; trainer?: string }[];
        rows: { name: string; backend: string; imagesPerSec: number; opsPerSec: number }[];
      };
      expect(bench.backends).toEqual([expect.objectContaining({ name: 'webgpu', trainer })]);
      expect(bench.rows.map((r) => [r.name, r.backend])).toEqual([
        ['model/resnet20/infer/mnist/2x28x28x1', 'webgpu'],
      ]);
      expect(bench.rows[0]!.imagesPerSec).toBeCloseTo(bench.rows[0]!.opsPerSec * 2, 6);
    }
  });
});
