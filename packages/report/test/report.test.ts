import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { composeReport, renderReport } from '../src/html.js';
import { loadPaperBaseline } from '../src/paper.js';
import { readStoreRecords } from '../src/store-records.js';
import { writeReport } from '../src/write-report.js';
import { fixtureRun, fixtureStore, fixtureSweep, METHODS } from './fixtures.js';

const paper = loadPaperBaseline(
  fileURLToPath(new URL('../../../baselines/paper.json', import.meta.url)),
);

const ALL_KINDS = [
  'accuracy-vs-budget',
  'accuracy-vs-macs',
  'round-curves',
  'pruning-ablation',
  'convergence',
  'rank-agreement',
];

function count(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

describe('composeReport', () => {
  it('renders every table and chart of a full sweep into one self-contained page', async () => {
    const { html, tables, charts } = await composeReport(fixtureSweep(), {
      paper,
      title: 'Quick sweep',
    });
    expect(tables).toEqual([
      'results: quick · cifar10 · resnet20 · least-confidence',
      'paper vs measured',
      'provenance',
    ]);
    expect(charts.map((c) => c.split(':')[0])).toEqual(ALL_KINDS);
    expect(count(html, /<table /)).toBe(3);
    expect(count(html, /<figure class="chart"/)).toBe(6);
    expect(count(html, /<svg /)).toBe(6);
    expect(html).toContain('<title>Quick sweep</title>');
    // Nothing that a browser would fetch or run.
    expect(html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
    // Paper vs measured, clearly labelled, and honest about having nothing to compare.
    expect(html).toContain('<span class="badge paper">paper</span>');
    expect(html).toContain('<span class="badge measured">measured</span>');
    expect(count(html, /no measured run matches/)).toBe(3);
    expect(html).toContain('93.69');
    // The unpublished KD settings are stated.
    expect(html).toContain('does not publish its distillation weight λ and temperature T');
    // One provenance row per run.
    expect(count(html, /<details><summary>/)).toBe(18);
  });

  it('shows the mean ± std per cell and marks the best of each column', async () => {
    const html = await renderReport(fixtureSweep());
    const table = html.slice(html.indexOf('<table class="results"'), html.indexOf('</table>'));
    expect(count(table, /<tr>/)).toBe(1 + 9);
    // Three budgets with several methods each; the 100% column has only full data.
    expect(count(table, /class="best"/)).toBe(3);
    expect(table).toMatch(
      /<td>\d+\.\d\d <span class="std">± \d+\.\d\d<\/span> <span class="n">n=2<\/span><\/td>/,
    );
  });

  it('sets measured runs beside the published figure they match, with the gap', async () => {
    const runs = [0, 1].map((seed) =>
      fixtureRun({ method: METHODS.prunefuse(0.5), seed, dataset: 'cifar100' }),
    );
    const html = await renderReport(runs, {
      paper: {
        ...paper,
        entries: [{ ...paper.entries[1]!, budgetFraction: 0.3, accuracyPct: 90 }],
      },
    });
    const section = html.slice(
      html.indexOf('<section id="paper"'),
      html.indexOf('<section id="provenance"'),
    );
    expect(section).not.toContain('no measured run matches');
    expect(section).toContain('prunefuse p=0.5 · resnet20 · 1,500 labelled');
    expect(section).toMatch(/class="gap neg">−\d+\.\d\d</);
  });

  it('leaves out the charts whose data was not recorded', async () => {
    const runs = [METHODS.random(), METHODS.prunefuse(0.5)].map((method) =>
      fixtureRun({ method, seed: 0 }),
    );
    const { charts, tables } = await composeReport(runs);
    expect(charts.map((c) => c.split(':')[0])).toEqual([
      'accuracy-vs-budget',
      'accuracy-vs-macs',
      'round-curves',
    ]);
    expect(tables).toEqual([
      'results: quick · cifar10 · resnet20 · least-confidence',
      'provenance',
    ]);

    const fullOnly = await composeReport([fixtureRun({ method: METHODS.full(), seed: 0 })]);
    expect(fullOnly.charts).toEqual([
      'accuracy-vs-macs: quick · cifar10 · resnet20 · no acquisition function',
    ]);
    const noTarget = { ...fixtureRun({ method: METHODS.svp(), seed: 0 }), targets: [] };
    const empty = await composeReport([noTarget]);
    expect(empty.charts).toEqual(['round-curves: quick · cifar10 · resnet20 · least-confidence']);
    expect(empty.html).toContain('<th class="row" scope="row">svp resnet8</th>');
  });

  it('escapes every name that comes from a run config', async () => {
    const hostile = fixtureRun({
      method: METHODS.svp(),
      seed: 0,
      experiment: '<script>alert("experiment")</script>',
      arch: '<img src=x onerror=alert(1)>',
    });
    const html = await renderReport([hostile], { title: '"><b>title</b>' });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>title</b>');
    expect(html).toContain('&lt;script&gt;alert(&#34;experiment&#34;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('refuses to render nothing', async () => {
    await expect(renderReport([])).rejects.toThrow(/no runs to report/);
  });
});

describe('writeReport', () => {
  it('writes <out>/index.html from a results store', async () => {
    const store = fixtureStore(
      [0, 1].map((seed) => fixtureRun({ method: METHODS.random(), seed })),
    );
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'prunefuse-out-')), 'reports', 'quick');
    const written = await writeReport(store, out);
    expect(written.out).toBe(path.join(out, 'index.html'));
    expect(readFileSync(written.out, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(written.charts).toEqual([
      'accuracy-vs-budget: quick · cifar10 · resnet20 · no acquisition function',
      'accuracy-vs-macs: quick · cifar10 · resnet20 · no acquisition function',
    ]);
  });

  it('refuses a path that is not a store, and a store with no runs, without creating anything', () => {
    const missing = path.join(tmpdir(), 'prunefuse-no-such-store');
    expect(() => readStoreRecords(missing)).toThrow(
      `${missing}: not a results store (no runs/ directory)`,
    );
    expect(existsSync(missing)).toBe(false);
    const empty = mkdtempSync(path.join(tmpdir(), 'prunefuse-empty-'));
    mkdirSync(path.join(empty, 'runs'));
    expect(() => readStoreRecords(empty)).toThrow(`${empty}: the store holds no finished runs`);
  });
});
