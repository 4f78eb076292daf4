import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '@prunefuse/results';
import ejs from 'ejs';
import { summarizeGroup } from './aggregate.js';
import { type ChartKind, panelCharts } from './charts.js';
import { groupRuns } from './groups.js';
import { comparePaper, type PaperBaseline } from './paper.js';
import { panelsOf, panelTitle } from './panels.js';
import { kdSettings, provenanceRows } from './provenance.js';
import { resultTable } from './results-table.js';
import { renderSvg } from './svg.js';

export interface ReportOptions {
  /** The published figures to set beside the measured ones; the section says so when absent. */
  paper?: PaperBaseline;
  title?: string;
}

/** What a rendered report contains, for the CLI's --json and for tests. */
export interface ReportContents {
  html: string;
  /** One entry per HTML table, in page order. */
  tables: string[];
  /** One entry per chart, `kind: section`, in page order. */
  charts: string[];
}

/**
 * templates/ sits beside src/ and dist/ in the package, and beside the file itself in the
 * single-file CLI bundle.
 */
const TEMPLATE =
  [
    new URL('../templates/report.ejs', import.meta.url),
    new URL('./templates/report.ejs', import.meta.url),
  ].find((url) => existsSync(url)) ?? new URL('../templates/report.ejs', import.meta.url);
let compiled: ejs.TemplateFunction | undefined;

/**
 * `strict` keeps the template from reading anything but the view model, and `<%=`
 * escapes every value; chart SVGs are the only markup inserted raw, and Vega escapes
 * the text inside them.
 */
function template(): ejs.TemplateFunction {
  compiled ??= ejs.compile(readFileSync(TEMPLATE, 'utf8'), {
    filename: fileURLToPath(TEMPLATE),
    strict: true,
  });
  return compiled;
}

/** One self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched. */
export async function renderReport(
  records: readonly RunRecord[],
  options: ReportOptions = {},
): Promise<string> {
  return (await composeReport(records, options)).html;
}

export async function composeReport(
  records: readonly RunRecord[],
  options: ReportOptions = {},
): Promise<ReportContents> {
  if (records.length === 0) throw new Error('no runs to report');
  const groups = groupRuns(records);
  const summaries = groups.map(summarizeGroup);
  const tables: string[] = [];
  const charts: string[] = [];
  const sections = [];
  for (const [index, panel] of panelsOf(summaries).entries()) {
    const title = panelTitle(panel);
    tables.push(`results: ${title}`);
    const figures: { kind: ChartKind; title: string; caption: string; svg: string }[] = [];
    for (const chart of panelCharts(panel)) {
      figures.push({ ...chart, svg: await renderSvg(chart.spec, `${chart.kind} (${title})`) });
      charts.push(`${chart.kind}: ${title}`);
    }
    sections.push({ id: `section-${index + 1}`, title, table: resultTable(panel), figures });
  }
  const paper = options.paper
    ? {
        source: options.paper.paper,
        note: options.paper.note,
        rows: comparePaper(options.paper, summaries),
      }
    : null;
  if (paper) tables.push('paper vs measured');
  tables.push('provenance');
  const html = template()({
    title: options.title ?? 'PruneFuse report',
    overview: overview(records),
    kdSettings: kdSettings(records),
    sections,
    paper,
    provenance: provenanceRows(groups),
    format: FORMAT,
  });
  return { html, tables, charts };
}

function overview(records: readonly RunRecord[]) {
  const distinct = (values: string[]) => [...new Set(values)].sort();
  return {
    runs: records.length,
    experiments: distinct(records.map((r) => r.config.experiment)),
    datasets: distinct(records.map((r) => r.config.dataset.name)),
    backends: distinct(records.map((r) => `${r.environment.backend} (${r.environment.device})`)),
    gitCommits: distinct(records.map((r) => r.environment.gitCommit ?? 'unknown')),
    from: distinct(records.map((r) => r.startedAt))[0]!,
    to: distinct(records.map((r) => r.finishedAt)).at(-1)!,
    wallSeconds: records.reduce((sum, r) => sum + r.wallSeconds, 0),
  };
}

const FORMAT = {
  accuracy: (pct: number) => pct.toFixed(2),
  gap: (points: number) => `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(2)}`,
  budget: (fraction: number) => `${Math.round(fraction * 1000) / 10}%`,
  count: (n: number) => n.toLocaleString('en-US'),
  seconds: (s: number) => (s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`),
};
