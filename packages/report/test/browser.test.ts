import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, ensureDebianPackages } from '../../../test/support/debian-packages.js';
import { loadPaperBaseline } from '../src/paper.js';
import { type WrittenReport, writeReport } from '../src/write-report.js';
import { fixtureRun, fixtureStore, fixtureSweep, METHODS } from './fixtures.js';

/**
 * Opens a generated report in a real headless Chromium: the page must render with no
 * console error and no request of any kind beyond the file itself, with every table and
 * chart laid out. Chromium is Debian's package: installed here when the test runs as root
 * with apt-get, else the test fails naming the command that installs it, so a missing
 * browser is never mistaken for a pass.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the report in headless Chromium', () => {
  let browser: Browser;
  let report: WrittenReport;
  const dir = mkdtempSync(path.join(tmpdir(), 'prunefuse-browser-'));

  beforeAll(async () => {
    ensureDebianPackages([CHROMIUM]);
    // Two acquisition functions make two sections; random and full data join both.
    const records = [
      ...fixtureSweep(),
      ...[0, 1].map((seed) =>
        fixtureRun({ method: METHODS.prunefuse(0.5), seed, acquisition: 'entropy' }),
      ),
    ];
    const paper = loadPaperBaseline(
      fileURLToPath(new URL('../../../baselines/paper.json', import.meta.url)),
    );
    report = await writeReport(fixtureStore(records), path.join(dir, 'report'), {
      paper,
      title: 'Browser check',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM.provides, args: ARGS });
    // Installing Chromium takes about a minute on a fresh machine.
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders with no console error, no request, every table and chart, and a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on('request', (request) => requests.push(request.url()));

    const url = pathToFileURL(report.out).href;
    await page.goto(url, { waitUntil: 'load' });

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.title()).toBe('Browser check');

    // Tables: one results table per section, the paper comparison, provenance.
    expect(report.tables).toHaveLength(4);
    expect(await page.locator('table[data-table="results"]').count()).toBe(2);
    expect(await page.locator('table[data-table="paper"]').count()).toBe(1);
    expect(await page.locator('table[data-table="provenance"]').count()).toBe(1);
    const headers = await page
      .locator('table[data-table="results"]')
      .first()
      .locator('thead th')
      .allInnerTexts();
    expect(headers.map((h) => h.split('\n')[0])).toEqual([
      'method',
      'b = 10%',
      'b = 20%',
      'b = 30%',
      'b = 100%',
    ]);
    expect(
      await page.locator('table[data-table="results"] td.best').count(),
    ).toBeGreaterThanOrEqual(6);
    expect(await page.locator('table[data-table="provenance"] tbody tr').count()).toBe(20);

    // Charts: every figure the report lists, each an SVG with drawn marks and real size.
    const figures = page.locator('figure.chart');
    expect(await figures.count()).toBe(report.charts.length);
    const kinds = await figures.evaluateAll((nodes) =>
      nodes.map((n) => n.getAttribute('data-chart')),
    );
    expect(kinds).toEqual(report.charts.map((c) => c.split(':')[0]));
    expect(new Set(kinds)).toEqual(
      new Set([
        'accuracy-vs-budget',
        'accuracy-vs-macs',
        'round-curves',
        'pruning-ablation',
        'convergence',
        'rank-agreement',
      ]),
    );
    const sizes = await page.locator('figure.chart > svg').evaluateAll((nodes) =>
      nodes.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          width: box.width,
          height: box.height,
          marks: svg.querySelectorAll('path, line').length,
        };
      }),
    );
    expect(sizes).toHaveLength(report.charts.length);
    for (const size of sizes) {
      expect(size.width).toBeGreaterThan(200);
      expect(size.height).toBeGreaterThan(150);
      expect(size.marks).toBeGreaterThan(10);
    }

    const screenshot = path.join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.length).toBeGreaterThan(50_000);
  });
});
