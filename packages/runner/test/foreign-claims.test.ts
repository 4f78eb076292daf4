import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ClaimHolder, ResultsStore } from '@prunefuse/results';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { createProgress } from '../src/progress/reporter.js';
import { runSweep } from '../src/sweep.js';
import { describeTestDataset } from './fixtures/datasets.js';
import { fixtureExecutor, TEST_ENVIRONMENT } from './fixtures/fixture-executor.js';

const runs = expandSweep(
  parseExperiment(
    'experiments/unit.yaml',
    `
dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [random]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 2 }
seeds: [1, 2]
`,
  ),
  describeTestDataset,
).runs;

let root: string;
let store: ResultsStore;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-foreign-'));
  store = ResultsStore.open(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A claim as a sweep on another node of a cluster leaves it in the shared store. */
function foreignClaim(id: string, expiresInMs: number): void {
  const holder: ClaimHolder = {
    pid: 4242,
    hostname: 'gpu-node-17',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    token: `foreign-${id}`,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  };
  writeFileSync(path.join(store.claimsDir, `${id}.lock`), JSON.stringify(holder));
}

async function sweepLogging() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) };
  const summary = await runSweep({
    runs,
    store,
    execute: fixtureExecutor({ epochMs: 1 }),
    environment: async () => TEST_ENVIRONMENT,
    progress: createProgress(stream, { intervalMs: 0 }),
    pollMs: 50,
  });
  return { summary, log: lines.join('') };
}

describe('claims of other hosts', () => {
  it('takes over a claim whose lease expired, saying whose, and executes the run', async () => {
    const [abandoned, free] = [runs[0]!.id, runs[1]!.id];
    foreignClaim(abandoned, -1_000);
    const { summary, log } = await sweepLogging();
    expect(summary.executed.sort()).toEqual([abandoned, free].sort());
    expect(log).toContain(
      `run ${abandoned}: taking over the claim of pid 4242 on gpu-node-17 (since `,
    );
    expect(log).toContain('its lease expired at');
    expect(readdirSync(store.claimsDir)).toEqual([]);
  });

  it('waits for a claim whose lease runs, and takes it over only once it has expired', async () => {
    const held = runs[0]!.id;
    const expiresAt = Date.now() + 1_500;
    foreignClaim(held, 1_500);
    const { summary, log } = await sweepLogging();
    expect(summary.executed).toContain(held);
    expect(log).toContain(`run ${held} is being executed by pid 4242 on gpu-node-17`);
    expect(log).toContain(`run ${held}: taking over the claim of pid 4242 on gpu-node-17`);
    expect(Date.parse(store.read(held).startedAt)).toBeGreaterThanOrEqual(expiresAt);
    expect(readdirSync(store.claimsDir)).toEqual([]);
  });
});
