import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { composeReport, renderReport } from '../src/html.js';
import { loadPaperBaseline } from '../src/paper.js';
import { readStoreRecords } from '../src/store-records.js';
import { writeReport } from '../src/write-report.js';
import { fixtureKdSettings, fixtureRun, fixtureStore, fixtureSweep, METHODS } from './fixtures.js';

const paper = loadPaperBaseline(
  fileURLToPath(new URL('../../../baselines/paper.json', import.meta.url)),
);

const ALL_KINDS = [
  'accuracy-vs-budget',
  'accuracy-vs-macs',
  'round-curves',
  'learning-curves',
  'pruning-ablation',
  'convergence',
  'kd-grid',
  'rank-agreement',
];

function count(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

describe('composeReport', () => {
  it('renders every table and chart of a full sweep into one self-contained page', async () => {
    const { html, tables, charts } = await composeReport(
      [...fixtureSweep(), ...fixtureKdSettings()],
      { paper, title: 'Quick sweep' },
    );
    expect(tables).toEqual([
      'claims',
      'results: quick · cifar10 · resnet20 · least-confidence',
      'provenance',
    ]);
    expect(charts.map((c) => c.split(':')[0])).toEqual(ALL_KINDS);
    expect(count(html, /<table /)).toBe(3);
    expect(count(html, /<figure class="chart"/)).toBe(8);
    expect(count(html, /<svg /)).toBe(8);
    expect(html).toContain('<title>Quick sweep</title>');
    // Nothing that a browser would fetch or run.
    expect(html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
    // No published figure is for this data: one line says so, no table of empty rows.
    expect(count(html, /data-paper="unmatched"/)).toBe(1);
    expect(html).not.toContain('93.69');
    // The unpublished KD settings are stated.
    expect(html).toContain('does not publish its distillation weight λ and temperature T');
    // One provenance row per run, wall times in one format.
    expect(count(html, /<details><summary>/)).toBe(22);
    expect(html).toMatch(/<td>5m0\ds<\/td>/);
    expect(html).not.toMatch(/\d s<|\d min</);
    // The table's caption does not repeat the section heading.
    expect(html).toContain('<caption>Test accuracy (%) by labelling budget</caption>');
  });

  it('shows the mean ± std per cell and shades a best mean only where it leads by more than the spread', async () => {
    const html = await renderReport(fixtureSweep());
    const start = html.indexOf('<table class="results"');
    const table = html.slice(start, html.indexOf('</table>', start));
    expect(count(table, /<tr>/)).toBe(1 + 9);
    expect(table).toMatch(
      /<td>\d+\.\d\d <span class="std">± \d+\.\d\d<\/span> <span class="n">n=2<\/span><\/td>/,
    );

    const seeds = [0, 1, 2];
    const clearLead = [
      ...seeds.map((seed) => fixtureRun({ method: METHODS.random(), seed })),
      ...seeds.map((seed) =>
        fixtureRun({ method: METHODS.activeLearning(), seed, accuracyShift: 5 }),
      ),
    ];
    const shaded = (h: string) => count(h, /<td class="best">/);
    expect(shaded(await renderReport(clearLead))).toBe(3);
    // One seed has no spread to weigh a lead against.
    expect(shaded(await renderReport(clearLead.filter((r) => r.config.seed === 0)))).toBe(0);
    // Active learning's 2.6-point bonus cancelled: the lead is within the seeds' noise.
    const tie = [
      ...seeds.map((seed) => fixtureRun({ method: METHODS.random(), seed })),
      ...seeds.map((seed) =>
        fixtureRun({ method: METHODS.activeLearning(), seed, accuracyShift: -2.6 }),
      ),
    ];
    expect(shaded(await renderReport(tie))).toBe(0);
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
    expect(section).not.toContain('data-paper="unmatched"');
    expect(section).toContain('prunefuse p=0.5 · resnet20 · 1,500 labelled');
    expect(section).toMatch(/class="gap neg">−\d+\.\d\d</);
  });

  it('says in one line which figures it could not draw, and why', async () => {
    const runs = [METHODS.random(), METHODS.prunefuse(0.5)].map((method) =>
      fixtureRun({ method, seed: 0 }),
    );
    const { charts, notDrawn, tables, html } = await composeReport(runs);
    const setting = 'quick · cifar10 · resnet20 · least-confidence';
    expect(charts).toEqual(
      ['accuracy-vs-budget', 'accuracy-vs-macs', 'round-curves', 'learning-curves'].map(
        (kind) => `${kind}: ${setting}`,
      ),
    );
    expect(notDrawn).toEqual(
      ['pruning-ablation', 'convergence', 'kd-grid', 'rank-agreement'].map(
        (kind) => `${kind}: ${setting}`,
      ),
    );
    expect(html).toMatch(
      /<p class="not-drawn" data-not-drawn="pruning-ablation"><strong>Pruning-ratio ablation:<\/strong> not run: PruneFuse ran at fewer than two pruning ratios/,
    );
    expect(html).toContain('data-not-drawn="convergence"');
    expect(html).toContain('data-not-drawn="rank-agreement"');
    expect(tables).toEqual(['claims', `results: ${setting}`, 'provenance']);

    const fullOnly = await composeReport([fixtureRun({ method: METHODS.full(), seed: 0 })]);
    expect(fullOnly.charts.map((c) => c.split(':')[0])).toEqual([
      'accuracy-vs-macs',
      'learning-curves',
    ]);
    expect(fullOnly.notDrawn.map((c) => c.split(':')[0])).toEqual([
      'accuracy-vs-budget',
      'round-curves',
      'pruning-ablation',
      'convergence',
      'kd-grid',
      'rank-agreement',
    ]);
    const noTarget = { ...fixtureRun({ method: METHODS.svp(), seed: 0 }), targets: [] };
    const empty = await composeReport([noTarget]);
    expect(empty.charts).toEqual([`round-curves: ${setting}`]);
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

  it('warns at the top about diverged targets and marks their cells, which are never best', async () => {
    const runs = fixtureSweep();
    const broken = runs.find((r) => r.config.method.name === 'svp')!;
    const at = broken.targets[1]!;
    at.diverged = { reason: 'test accuracy 9.80% is at chance' };
    const { html, diverged } = await composeReport(runs);
    expect(diverged).toEqual([
      {
        id: broken.id,
        run: expect.stringMatching(/^svp /),
        labelled: at.labelled,
        reason: at.diverged.reason,
      },
    ]);
    expect(html).toMatch(
      /<section class="warning" data-warning="diverged">\s*<strong>Training diverged in 1 target:<\/strong>/,
    );
    expect(html).toContain(`<code>${broken.id}</code>`);
    expect(html).toContain('test accuracy 9.80% is at chance');
    expect(html.match(/<td class="diverged">[^<]*<span class="std">/g)).toHaveLength(1);
    expect(html).toContain('⚠ 1 diverged');

    const { html: clean, diverged: none } = await composeReport(fixtureSweep());
    expect(none).toEqual([]);
    expect(clean).not.toContain('data-warning="diverged"');
    expect(clean).not.toContain('class="diverged"');
  });

  it('marks a group whose seeds were computed at different commits', async () => {
    const runs = fixtureSweep();
    const svp = runs.filter((r) => r.config.method.name === 'svp');
    expect(svp.length).toBeGreaterThan(1);
    svp[0]!.environment.gitCommit = 'fedcba9876543210fedcba9876543210fedcba98';
    const { html } = await composeReport(runs);
    expect(count(html, /class="mixed-commits"/)).toBe(1);
    expect(html).toMatch(
      /svp[^<]*<span class="mixed-commits"[^>]*>mixed commits: [0-9a-f]{7}, [0-9a-f]{7}</,
    );
    const { html: uniform } = await composeReport(fixtureSweep());
    expect(uniform).not.toContain('class="mixed-commits"');
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
      'learning-curves: quick · cifar10 · resnet20 · no acquisition function',
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
