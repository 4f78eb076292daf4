import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './cli-process.js';

// A folder outside the repository: no node_modules anywhere above it.
const out = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the single-file CLI bundle', () => {
  it('runs from a folder with no node_modules: wasm (threaded) and cpu train there', () => {
    const built = spawnSync(
      path.join(repoRoot, 'node_modules/.bin/tsx'),
      [path.join(repoRoot, 'packages/runner/scripts/bundle.ts'), out],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(built.status, built.stderr).toBe(0);
    for (const file of [
      'prunefuse.mjs',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'pthread-worker.cjs',
      'templates/report.ejs',
      `dist/${process.platform}-${process.arch}/dawn.node`,
    ]) {
      expect(existsSync(path.join(out, file)), file).toBe(true);
    }
    expect(existsSync(path.join(out, 'node_modules'))).toBe(false);

    const run = spawnSync(
      process.execPath,
      [path.join(out, 'prunefuse.mjs'), 'backends', '--json'],
      {
        cwd: out,
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: '' },
        timeout: 120_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const reports = JSON.parse(run.stdout) as Array<{
      name: string;
      available: boolean;
      device: string | null;
    }>;
    const byName = Object.fromEntries(reports.map((r) => [r.name, r]));
    expect(byName.cpu?.available).toBe(true);
    // Available means it also passed a conv training step, which needs our wasm kernels.
    expect(byName.wasm?.available).toBe(true);
    if (os.availableParallelism() > 1) expect(byName.wasm?.device).toMatch(/\d+ threads/);
  });
});
