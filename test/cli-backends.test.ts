import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

describe('prunefuse backends', () => {
  it('--json prints exactly one JSON document with every backend, logs stay on stderr', () => {
    const result = runCli(['backends', '--json']);
    expect(result.status).toBe(0);
    const reports = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(reports.map((r) => r.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    for (const report of reports) {
      expect(Object.keys(report).sort()).toEqual([
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
