import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore, type RunRecord } from '@prunefuse/results';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
experiment: e2e-methods
dataset: { name: mnist, trainSubset: 240, testSubset: 80 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: 0.5
  - name: prunefuse
    prune: 0.5
    fusion: false
    kd: false
  - name: prunefuse
    prune: 0.5
    fill: zero
  - name: svp
    proxyArch: resnet8-digits
    proxyEpochs: 1
  - active-learning
  - random
  - full
acquisition: least-confidence
budget: { initial: 40, milestones: [60, 80], roundSize: 20, classBalancedInitial: true }
training: { epochs: 2, batchSize: 32, lr: 0.05, schedule: cosine, augment: false, evalEvery: 1 }
seeds: [0]
backend: wasm
`;

describe('every method end to end through `prunefuse run` on wasm', () => {
  const file = path.join(dir, 'e2e.yaml');
  const store = path.join(dir, 'store');
  writeFileSync(file, CONFIG);

  it('runs, records every method, and resumes without rerunning', () => {
    const first = runCli(['run', file, '--out', store, '--json']);
    expect(first.status, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as {
      executed: string[];
      failed: string[];
      report: string;
    };
    expect(summary.executed).toHaveLength(7);
    expect(summary.failed).toEqual([]);
    expect(summary.report).toBe(path.join(store, 'report', 'index.html'));
    expect(readFileSync(summary.report, 'utf8')).toContain('prunefuse p=0.5');

    const records = new ResultsStore(store).records();
    const byLabel = new Map<string, RunRecord>(
      records.map((r) => {
        const m = r.config.method;
        const label = m.name === 'prunefuse' ? `prunefuse/${m.fusion}/${m.kd}/${m.fill}` : m.name;
        return [label, r];
      }),
    );
    expect([...byLabel.keys()].sort()).toEqual([
      'active-learning',
      'full',
      'prunefuse/false/false/init',
      'prunefuse/true/true/init',
      'prunefuse/true/true/zero',
      'random',
      'svp',
    ]);
    for (const record of records) {
      expect(record.environment.backend).toBe('wasm');
      for (const target of record.targets) {
        expect(target.accuracy).toBeGreaterThanOrEqual(0);
        expect(target.accuracy).toBeLessThanOrEqual(1);
      }
      const labelled = [...record.initialLabelled, ...record.rounds.flatMap((r) => r.selected)];
      expect(new Set(labelled).size).toBe(labelled.length);
    }
    const full = byLabel.get('full')!;
    expect(full.targets.map((t) => t.labelled)).toEqual([240]);
    expect(full.rounds).toHaveLength(0);
    for (const label of ['active-learning', 'svp', 'random', 'prunefuse/true/true/init']) {
      expect(byLabel.get(label)!.targets.map((t) => t.labelled)).toEqual([60, 80]);
    }
    const fused = byLabel.get('prunefuse/true/true/init')!;
    expect(fused.targets.every((t) => t.init === 'fused' && t.kd)).toBe(true);
    expect(
      byLabel
        .get('prunefuse/false/false/init')!
        .targets.every((t) => t.init === 'scratch' && !t.kd),
    ).toBe(true);

    // The pruned selector (p = 0.5) costs about a quarter of θ selecting for itself.
    const al = byLabel.get('active-learning')!;
    const selection = (r: RunRecord) => r.macs.selectorTraining + r.macs.poolScoring;
    expect(selection(fused) / selection(al)).toBeGreaterThan(0.15);
    expect(selection(fused) / selection(al)).toBeLessThan(0.4);
    expect(fused.params.selector! / fused.params.target).toBeLessThan(0.35);
    expect(byLabel.get('random')!.macs.selectorTraining).toBe(0);

    const again = runCli(['run', file, '--out', store, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ executed: [], failed: [] });
    expect(new ResultsStore(store).records()).toHaveLength(7);
  });
});
