import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFixture, waitFor } from './fixtures/child-process.js';

const CONFIG = `
dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [random, active-learning]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 4 }
seeds: [1]
report: false
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-interrupt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C and resume', () => {
  it('Ctrl-C says what is kept and how to resume, exits 130; the resumed sweep names the run it restarts', async () => {
    const config = path.join(dir, 'unit.yaml');
    writeFileSync(config, CONFIG);
    const out = path.join(dir, 'store');
    const first = startFixture('run-child.ts', [config, out, '200']);
    let stderr = '';
    first.child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    // The first run finishes, the second is interrupted once its journal has an epoch.
    await waitFor(() => /\[run 2\/2\] \w+ .*: started/.test(stderr), 'the second run', 90_000);
    const second = /\[run 2\/2\] (\w+) /.exec(stderr)![1]!;
    const journal = path.join(out, 'journals', `${second}.jsonl`);
    await waitFor(
      () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"type":"epoch"'),
      'an epoch of the second run',
    );
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(
      `interrupted: 1 of 2 runs finished and are kept in ${out}; ` +
        `the run in progress keeps its finished targets, selection rounds and training epochs and resumes from them. Resume with: pnpm prunefuse run ${config} --out ${out}`,
    );

    const resumed = await startFixture('run-child.ts', [config, out, '1']).done;
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('sweep: 1 runs to do, 1 already finished');
    expect(resumed.stderr).toMatch(
      new RegExp(
        `resuming interrupted run ${second} active-learning .*: an attempt started at \\S+ on \\S+ ` +
          'stopped after [1-9]\\d* epochs and 0 targets; it saved no target or training epoch, so the run starts again',
      ),
    );
  });
});
