import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSummary, RESULTS_FILE, resultFiles, sumResults } from '../scripts/test-summary.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-summary-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A vitest JSON report (Jest's format) as `vitest run --reporter=json` writes it. */
function writeReport(dir: string, report: object): void {
  const file = path.join(root, dir, RESULTS_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report));
}

describe('pnpm test summary', () => {
  it('sums every package’s results into one line', () => {
    mkdirSync(path.join(root, 'packages', 'without-tests'), { recursive: true });
    writeReport('packages/engine', {
      numPassedTests: 40,
      numFailedTests: 1,
      numPendingTests: 2,
      numTodoTests: 1,
      testResults: [{ status: 'failed', assertionResults: [{}] }],
    });
    writeReport('packages/report', {
      numPassedTests: 20,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 0,
      // A test file that failed to import: its tests never ran, and it must not pass as 0.
      testResults: [{ status: 'failed', assertionResults: [] }],
    });
    writeReport('test', {
      numPassedTests: 5,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 0,
    });
    const files = resultFiles(root);
    expect(files).toHaveLength(3);
    expect(formatSummary(sumResults(files))).toBe('65 passed, 2 failed, 3 skipped');
  });
});
