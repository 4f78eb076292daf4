// Sums the per-package results that `vitest run --reporter=json` writes, for the one line
// `pnpm test` ends with.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where each workspace package's vitest writes its JSON results (kept by turbo's cache). */
export const RESULTS_FILE = path.join('.test-results', 'vitest.json');

/** The results files under the workspace's packages and test/, whichever exist. */
export function resultFiles(root: string): string[] {
  const packages = readdirSync(path.join(root, 'packages')).map((name) =>
    path.join(root, 'packages', name),
  );
  return [...packages, path.join(root, 'test')]
    .map((dir) => path.join(dir, RESULTS_FILE))
    .filter((file) => existsSync(file));
}

/**
 * Passed, failed and skipped tests over vitest's JSON reports (Jest's format): skipped
 * counts `it.skip` and `it.todo`; a test file that failed to load counts as one failure,
 * since its tests never ran.
 */
export interface TestTotals {
  passed: number;
  failed: number;
  skipped: number;
}

/** The parts of vitest's JSON report (Jest's format) that are summed. */
interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { status: string; assertionResults?: unknown[] }[];
}

export function sumResults(files: readonly string[]): TestTotals {
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const file of files) {
    const report = JSON.parse(readFileSync(file, 'utf8')) as VitestReport;
    total.passed += report.numPassedTests;
    total.failed += report.numFailedTests;
    total.skipped += report.numPendingTests + report.numTodoTests;
    total.failed += (report.testResults ?? []).filter(
      (suite) => suite.status === 'failed' && (suite.assertionResults ?? []).length === 0,
    ).length;
  }
  return total;
}

export function formatSummary({ passed, failed, skipped }: TestTotals): string {
  return `${passed} passed, ${failed} failed, ${skipped} skipped`;
}
