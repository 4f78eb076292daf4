// `pnpm test`: lint, typecheck and every package's tests through turbo, then one line with
// the totals over all packages: `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWebgpuTestDriver } from '../test/support/webgpu-driver.js';
import { formatSummary, RESULTS_FILE, resultFiles, sumResults } from './test-summary.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const turbo = (args: string[]) =>
  spawnSync(path.join(root, 'node_modules', '.bin', 'turbo'), args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  }).status ?? 1;

// Before any package's tests start: the webgpu tests of five packages need a Vulkan driver.
const driver = ensureWebgpuTestDriver();
if (driver !== null) process.stdout.write(`pnpm test: ${driver}\n`);

// Results of an earlier run must not be counted for a package that does not run now.
for (const file of resultFiles(root)) rmSync(file);
const checks = turbo(['run', 'lint', 'typecheck', '--continue', '--output-logs=errors-only']);
// Extra arguments reach every task of a turbo run, so the tests run on their own to get
// the JSON reporter beside the default one.
const tests = turbo([
  'run',
  'test',
  // Every package's tests run even when one fails, so a run reports all failures at once.
  '--continue',
  '--output-logs=errors-only',
  '--',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${RESULTS_FILE}`,
]);
const files = resultFiles(root);
process.stdout.write(`${formatSummary(sumResults(files))}\n`);
process.exitCode = checks !== 0 || tests !== 0 ? 1 : 0;
