import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_PYTHON, ensurePytorch } from '../packages/models/test/pytorch-setup.js';
import { runCli } from './cli-process.js';

const SMALL = ['--backend', 'wasm', '--model', 'resnet8-digits', '--shape', 'mnist'];

describe('prunefuse verify', () => {
  beforeAll(ensurePytorch, 900_000);

  it('checks a training step on wasm against PyTorch in float64: loss and every update, exit 0', () => {
    const result = runCli(['verify', ...SMALL, '--batch', '2', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      backend: string;
      reference: string;
      pass: boolean;
      loss: { relativeError: number };
      updates: { name: string; relativeError: number }[];
      relu: { activations: number; float64Disagrees: unknown[] };
    };
    expect(report).toMatchObject({ backend: 'wasm', reference: 'float64', pass: true });
    expect(report.loss.relativeError).toBeLessThan(1e-5);
    // Every variable, moving statistics included, worst first.
    expect(report.updates.map((u) => u.name)).toContain('stem.bn1/movingVariance');
    const errors = report.updates.map((u) => u.relativeError);
    expect(errors).toEqual([...errors].sort((a, b) => b - a));
    expect(errors[0]).toBeLessThan(1e-3);
    expect(report.relu.activations).toBeGreaterThan(0);
  });

  it('fails with exit 1 when the step disagrees beyond the tolerance', () => {
    const result = runCli(['verify', ...SMALL, '--batch', '2', '--tolerance', '1e-12']);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('wasm against float64');
    expect(result.stdout).toMatch(/ReLU decisions: \d+ of \d+ activations/);
    expect(result.stdout).toContain('FAIL');
  });

  it('--reference names a backend to compare with in float32', () => {
    const result = runCli(['verify', ...SMALL, '--batch', '2', '--reference', 'cpu', '--json']);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ reference: 'cpu', pass: true });
  });

  it('an interpreter without torch is named, with the command that installs it', () => {
    // Debian's python3 without its site directories: it starts, torch does not import.
    const python = path.join(mkdtempSync(path.join(os.tmpdir(), 'prunefuse-no-torch-')), 'python3');
    writeFileSync(python, `#!/bin/sh\nexec ${DEBIAN_PYTHON} -S "$@"\n`);
    chmodSync(python, 0o755);
    const result = runCli(['verify', ...SMALL, '--batch', '2', '--python', python]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `float64 reference: '${python}' cannot import torch (see above); install it with \`apt-get install python3-torch\``,
    );
  });
});

describe('prunefuse profile', () => {
  it('--json breaks a training step down by kernel, most expensive first', () => {
    const result = runCli(['profile', ...SMALL, '--batch', '4', '--steps', '1', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const profile = JSON.parse(result.stdout) as {
      backend: string;
      stepMs: number;
      issueMs: number;
      kernelMs: number;
      invocations: number;
      dispatches: number;
      kernels: { name: string; calls: number; ms: number; share: number }[];
      programs: unknown[];
    };
    expect(profile.backend).toBe('wasm');
    expect(profile.stepMs).toBeGreaterThan(0);
    // On wasm a step runs as it is issued; no GPU programs to count.
    expect(profile.issueMs).toBeGreaterThan(0);
    expect(profile.issueMs).toBeLessThanOrEqual(profile.stepMs);
    expect(profile.dispatches).toBe(0);
    const names = profile.kernels.map((k) => k.name);
    for (const kernel of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput']) {
      expect(names).toContain(kernel);
    }
    // Each convolution has one filter gradient; every one but the stem's an input gradient.
    const calls = (name: string) => profile.kernels.find((k) => k.name === name)!.calls;
    expect(calls('Conv2DBackpropFilter')).toBe(calls('Conv2D'));
    expect(calls('Conv2DBackpropInput')).toBe(calls('Conv2D') - 1);
    expect(profile.kernels.reduce((sum, k) => sum + k.calls, 0)).toBe(profile.invocations);
    const shares = profile.kernels.reduce((sum, k) => sum + k.share, 0);
    expect(shares).toBeCloseTo(1, 6);
    const times = profile.kernels.map((k) => k.ms);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // GPU programs are reported by webgpu only.
    expect(profile.programs).toEqual([]);
  });
});

describe('prunefuse bench --pytorch', () => {
  const bench = [
    'bench',
    '--backend',
    'wasm',
    '--filter',
    '/resnet20\\/infer\\/mnist/',
    '--time',
    '1',
  ];

  /** A stand-in interpreter: answers each case it is asked for at 1,000 images/s. */
  function fakePython(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-fake-python-'));
    const file = path.join(dir, 'python');
    writeFileSync(
      file,
      `#!/usr/bin/env node
const args = process.argv.slice(2);
// bench first checks that the interpreter imports torch: this one does.
if (args[0] === '-c' && args[1].startsWith('import torch')) process.exit(0);
if (!args[0].endsWith('resnet_bench.py')) throw new Error('not the bench script: ' + args[0]);
const cases = args[args.indexOf('--cases') + 1].split(',');
const rows = cases.map((name) => ({ name, meanMs: 128, medianMs: 128, imagesPerSec: 1000, samples: 3 }));
console.log(JSON.stringify({ device: 'Fake GPU (PyTorch 0, eager)', rows }));
`,
    );
    chmodSync(file, 0o755);
    return file;
  }

  it('times the model cases in PyTorch and gives each tfjs figure as a ratio to it', () => {
    const result = runCli([...bench, '--pytorch', fakePython(), '--json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      rows: { name: string; imagesPerSec: number }[];
      pytorch: { device: string; rows: { name: string }[] };
      ratios: { name: string; backend: string; ratio: number }[];
    };
    expect(report.pytorch.device).toBe('Fake GPU (PyTorch 0, eager)');
    expect(report.pytorch.rows.map((r) => r.name)).toEqual([
      'model/resnet20/infer/mnist/128x28x28x1',
    ]);
    const [row] = report.rows;
    expect(report.ratios).toEqual([
      { name: row!.name, backend: 'wasm', ratio: row!.imagesPerSec / 1000 },
    ]);
    const text = runCli([...bench, '--pytorch', fakePython()]);
    expect(text.stdout).toMatch(/x pytorch\)/);
    expect(text.stdout).toContain('pytorch: Fake GPU');
  });

  it('an interpreter that cannot be started is named in the error', () => {
    const result = runCli([...bench, '--pytorch', '/nonexistent/python3']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("--pytorch: could not start '/nonexistent/python3'");
  });
});
