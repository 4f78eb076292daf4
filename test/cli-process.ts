import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the prunefuse CLI from source as a user would (`pnpm prunefuse ...`), without pnpm's banner. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(
    path.join(repoRoot, 'node_modules/.bin/tsx'),
    ['--conditions=source', path.join(repoRoot, 'packages/runner/src/bin.ts'), ...args],
    { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
