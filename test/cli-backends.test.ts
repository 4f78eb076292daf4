import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

describe('prunefuse backends', () => {
  it('--json prints exactly one JSON document with every backend, logs stay on stderr', () => {
    const result = runCli(['backends', '--json']);
    expect(result.status).toBe(0);
    const reports = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(reports.map((r) => r.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    for (const report of reports) {
      // webgpu also lists Dawn's adapters (when dawn.node loads at all).
      const keys = Object.keys(report).filter((k) => report.name !== 'webgpu' || k !== 'adapters');
      expect(keys.sort()).toEqual([
        'available',
        'device',
        'emulated',
        'name',
        'reason',
        'selected',
      ]);
    }
    expect(reports.filter((r) => r.selected)).toHaveLength(1);
    const byName = Object.fromEntries(reports.map((r) => [r.name, r]));
    expect(byName.cpu).toMatchObject({ available: true, reason: null });
    expect(byName.tensorflow).toMatchObject({ available: false });
    expect(byName.tensorflow!.reason).toContain('@tensorflow/tfjs-node-gpu');
  });

  it('a forced backend via PRUNEFUSE_BACKEND is the selected one', () => {
    const result = runCli(['backends', '--json'], { PRUNEFUSE_BACKEND: 'cpu' });
    expect(result.status).toBe(0);
    const reports = JSON.parse(result.stdout) as Array<{ name: string; selected: boolean }>;
    expect(reports.find((r) => r.selected)?.name).toBe('cpu');
  });

  it('--gpu picks the webgpu adapter, recorded with what asked for it; a GPU not here is refused', () => {
    type Report = {
      name: string;
      available: boolean;
      reason: string | null;
      adapters?: Array<{ name: string }>;
      gpu?: unknown;
    };
    const webgpu = (result: ReturnType<typeof runCli>) =>
      (JSON.parse(result.stdout) as Report[]).find((r) => r.name === 'webgpu')!;
    const absent = webgpu(runCli(['backends', '--backend', 'cpu', '--gpu', '99', '--json']));
    expect(absent.available).toBe(false);
    const adapters = absent.adapters;
    if (adapters === undefined) return; // dawn.node does not load on this platform
    expect(absent.reason).toContain('GPU 99 (--gpu) is not among the');
    if (adapters.length === 0) return; // no Vulkan adapter here: nothing to pick from
    const hardware = adapters.find((a) => !/llvmpipe|lavapipe|swiftshader/i.test(a.name));
    const first = webgpu(
      runCli(['backends', '--backend', 'webgpu', '--json'], {
        PRUNEFUSE_GPU: 'auto',
        CUDA_VISIBLE_DEVICES: '0',
      }),
    );
    expect(first).toMatchObject({
      available: true,
      gpu: { index: 0, source: 'CUDA_VISIBLE_DEVICES', adapter: (hardware ?? adapters[0])!.name },
    });
  });

  it('an unknown backend fails with the accepted names', () => {
    const result = runCli(['backends', '--backend', 'cuda']);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("--backend: unknown backend 'cuda'");
  });

  it('every command has --help', () => {
    const result = runCli(['--help']);
    expect(result.status).toBe(0);
    const commands = [...result.stdout.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]!);
    expect(commands).toContain('backends');
    for (const command of commands.filter((c) => c !== 'help')) {
      const help = runCli([command, '--help']);
      expect(help.status, command).toBe(0);
      expect(help.stdout, command).toContain(`Usage: prunefuse ${command}`);
    }
  });
});
