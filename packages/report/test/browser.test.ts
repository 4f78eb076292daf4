import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, ensureDebianPackages } from '../../../test/support/debian-packages.js';
import { CHART_KINDS } from '../src/charts.js';
import { loadPaperBaseline } from '../src/paper.js';
import { type WrittenReport, writeReport } from '../src/write-report.js';
import { fixtureKdSettings, fixtureRun, fixtureStore, fixtureSweep, METHODS } from './fixtures.js';

/**
 * Opens generated reports in a real headless Chromium: the page must render with no
 * console error and no request of any kind beyond the file itself, every chart at a
 * readable size with a legend for every series and line style, the claims panel with its
 * verdicts, and every figure either drawn or said to be missing. Chromium is Debian's
 * package: installed here when the test runs as root with apt-get, else the test fails
 * naming the command that installs it, so a missing browser is never mistaken for a pass.
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
/** The viewport the reader used. */
const VIEWPORT = { width: 1400, height: 900 };
const MIN_CHART_WIDTH = 700;
const MIN_FONT_PX = 12;
/** A real sweep's records (report-fixture.yaml beside them says how they were made). */
const REAL_STORE = fileURLToPath(new URL('./real-store', import.meta.url));

const paper = loadPaperBaseline(
  fileURLToPath(new URL('../../../baselines/paper.json', import.meta.url)),
);

interface ChartLayout {
  kind: string;
  width: number;
  height: number;
  marks: number;
  /** Axis tick and legend text, in CSS px as drawn. */
  smallestFontPx: number;
  legendLabels: string[];
  /** Colours and dash patterns of the drawn lines that the legend does not show. */
  unlegendedColors: string[];
  unlegendedDashes: string[];
}

/**
 * Reads every chart's size, text size and legend from the page. Vega writes line marks
 * as `g.mark-line path` with `stroke` and `stroke-dasharray`, and legend symbols as
 * `g.role-legend-symbol path` with the same attributes.
 */
function chartLayouts(page: Page): Promise<ChartLayout[]> {
  return page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((figure) => {
      const svg = figure.querySelector(':scope > svg')!;
      const box = svg.getBoundingClientRect();
      const viewBoxWidth = Number(svg.getAttribute('viewBox')?.split(' ')[2]);
      const scale = box.width / viewBoxWidth;
      const texts = [...svg.querySelectorAll('.role-axis-label text, .role-legend-label text')];
      const dash = (el: { getAttribute(name: string): string | null }) => {
        const value = el.getAttribute('stroke-dasharray');
        return value && value !== '1,0' ? value : 'solid';
      };
      const symbols = [...svg.querySelectorAll('.role-legend-symbol path')];
      const lines = [...svg.querySelectorAll('.mark-line path')];
      const legendColors = new Set(symbols.map((s) => s.getAttribute('stroke')));
      const legendDashes = new Set(symbols.map(dash));
      const dashes = new Set(lines.map(dash));
      return {
        kind: figure.getAttribute('data-chart') ?? '',
        width: box.width,
        height: box.height,
        marks: svg.querySelectorAll('path, line').length,
        smallestFontPx: Math.min(
          ...texts.map((t) => Number.parseFloat(t.getAttribute('font-size') ?? '0') * scale),
        ),
        legendLabels: [...svg.querySelectorAll('.role-legend-label text')].map(
          (t) => t.textContent ?? '',
        ),
        unlegendedColors: [...new Set(lines.map((l) => l.getAttribute('stroke') ?? ''))].filter(
          (c) => !legendColors.has(c),
        ),
        // One line style needs no legend; two or more must each be there.
        unlegendedDashes: dashes.size < 2 ? [] : [...dashes].filter((d) => !legendDashes.has(d)),
      };
    }),
  );
}

async function openReport(browser: Browser, report: WrittenReport) {
  const page = await browser.newPage({ viewport: VIEWPORT });
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
  return page;
}

/** What every report must show, whatever its runs. */
async function expectReadableAndComplete(page: Page, report: WrittenReport) {
  const layouts = await chartLayouts(page);
  expect(layouts.map((l) => l.kind)).toEqual(report.charts.map((c) => c.split(':')[0]));
  for (const layout of layouts) {
    expect(layout.width, layout.kind).toBeGreaterThanOrEqual(MIN_CHART_WIDTH);
    expect(layout.height, layout.kind).toBeGreaterThan(150);
    expect(layout.marks, layout.kind).toBeGreaterThan(10);
    expect(layout.smallestFontPx, layout.kind).toBeGreaterThanOrEqual(MIN_FONT_PX);
    expect(layout.unlegendedColors, layout.kind).toEqual([]);
    expect(layout.unlegendedDashes, layout.kind).toEqual([]);
    // Whole labels: Vega cuts long ones with an ellipsis unless told not to.
    expect(
      layout.legendLabels.filter((l) => l.endsWith('…')),
      layout.kind,
    ).toEqual([]);
  }
  for (const layout of layouts.filter((l) => /round-curves|learning-curves/.test(l.kind))) {
    expect(layout.legendLabels).toEqual(expect.arrayContaining(['selector', 'target']));
  }

  // Every section draws each kind of figure or says in one line why it does not.
  const sections = await page.locator('section.panel').evaluateAll((nodes) =>
    nodes.map((section) => ({
      drawn: [...section.querySelectorAll('figure.chart')].map((f) => f.getAttribute('data-chart')),
      said: [...section.querySelectorAll('p.not-drawn')].map((p) =>
        p.getAttribute('data-not-drawn'),
      ),
    })),
  );
  expect(sections.length).toBeGreaterThan(0);
  for (const { drawn, said } of sections) {
    expect([...drawn, ...said].sort()).toEqual([...CHART_KINDS].sort());
  }

  // The claims panel: the paper's three claims, each with a verdict on every row.
  const claims = await page
    .locator('table[data-table="claims"] tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => [
        row.getAttribute('data-claim'),
        row.querySelector('td.verdict')?.textContent ?? '',
      ]),
    );
  expect(new Set(claims.map(([id]) => id))).toEqual(new Set(['pruned-selection', 'fusion', 'kd']));
  for (const [, verdict] of claims) {
    expect(['held', 'did not hold', 'inconclusive', 'not run']).toContain(verdict);
  }

  // The published figures: a table of matches or one line, never rows of "no match".
  const paperTable = await page.locator('table[data-table="paper"]').count();
  const paperLine = await page.locator('[data-paper="unmatched"]').count();
  expect(paperTable + paperLine).toBe(1);
  return { layouts, claims };
}

describe('the report in headless Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(path.join(tmpdir(), 'prunefuse-browser-'));

  // Installing Chromium takes about a minute on a fresh machine.
  beforeAll(async () => {
    ensureDebianPackages([CHROMIUM]);
    browser = await chromium.launch({ executablePath: CHROMIUM.provides, args: ARGS });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders a real sweep readably: wide charts, full legends, verdicts, nothing silently missing', async () => {
    const report = await writeReport(REAL_STORE, path.join(dir, 'real'), {
      paper,
      title: 'Real store',
    });
    const page = await openReport(browser, report);
    const { layouts, claims } = await expectReadableAndComplete(page, report);
    expect(layouts.map((l) => l.kind)).toEqual([
      'accuracy-vs-budget',
      'accuracy-vs-macs',
      'round-curves',
      'learning-curves',
      'convergence',
    ]);
    // Every method of the table is in the legend of the per-epoch curves.
    const methods = await page.locator('table[data-table="results"] tbody th').allInnerTexts();
    expect(methods.length).toBe(5);
    expect(layouts.find((l) => l.kind === 'learning-curves')!.legendLabels).toEqual(
      expect.arrayContaining(methods),
    );
    expect(layouts.find((l) => l.kind === 'convergence')!.legendLabels).toEqual(
      expect.arrayContaining(['fused', 'scratch']),
    );
    // Two seeds: every claim was tested with an interval on this sweep.
    expect(claims.every(([, verdict]) => verdict !== 'not run')).toBe(true);
    expect(await page.locator('table[data-table="claims"] td.none').allInnerTexts()).not.toContain(
      'n = 1: no interval',
    );
    await page.close();
  });

  it('renders every figure of a full sweep, with a screenshot', async () => {
    // Two acquisition functions make two sections; random and full data join both.
    const records = [
      ...fixtureSweep(),
      ...fixtureKdSettings(),
      ...[0, 1].map((seed) =>
        fixtureRun({ method: METHODS.prunefuse(0.5), seed, acquisition: 'entropy' }),
      ),
    ];
    const report = await writeReport(fixtureStore(records), path.join(dir, 'fixture'), {
      paper,
      title: 'Browser check',
    });
    const page = await openReport(browser, report);
    expect(await page.title()).toBe('Browser check');
    const { layouts } = await expectReadableAndComplete(page, report);
    expect(new Set(layouts.map((l) => l.kind))).toEqual(new Set(CHART_KINDS));

    // Tables: the claims, one results table per section, provenance.
    expect(report.tables).toHaveLength(4);
    expect(await page.locator('table[data-table="results"]').count()).toBe(2);
    expect(await page.locator('table[data-table="provenance"] tbody tr').count()).toBe(24);
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

    const screenshot = path.join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.length).toBeGreaterThan(50_000);
    await page.close();
  });
});
