import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeRun, type RunRecord } from '@prunefuse/results';
import ejs from 'ejs';
import { type GroupSummary, summarizeGroup } from './aggregate.js';
import { type ChartKind, panelFigures } from './charts.js';
import { testClaims, type Verdict } from './claims.js';
import { formatDuration } from './duration.js';
import { groupRuns } from './groups.js';
import { panelsOf, panelTitle } from './panels.js';
import { comparePaper, type PaperBaseline } from './paper.js';
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
  /** One entry per figure a section could not draw, `kind: section`, in page order. */
  notDrawn: string[];
  /** The paper's claims and what the runs here say of each. */
  claims: { id: string; title: string; verdict: Verdict | 'mixed' }[];
  /** Targets whose training diverged, warned about at the top of the page. */
  diverged: DivergedTarget[];
}

export interface DivergedTarget {
  id: string;
  /** describeRun's line: method, options, arch, acquisition, seed. */
  run: string;
  labelled: number;
  reason: string;
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
  const notDrawn: string[] = [];
  const sections = [];
  const panels = panelsOf(summaries);
  const claims = testClaims(panels);
  tables.push('claims');
  for (const [index, panel] of panels.entries()) {
    const title = panelTitle(panel);
    tables.push(`results: ${title}`);
    const figures: { kind: ChartKind; title: string; caption: string; svg: string }[] = [];
    const drawn = panelFigures(panel);
    for (const chart of drawn.charts) {
      figures.push({ ...chart, svg: await renderSvg(chart.spec, `${chart.kind} (${title})`) });
      charts.push(`${chart.kind}: ${title}`);
    }
    notDrawn.push(...drawn.missing.map((m) => `${m.kind}: ${title}`));
    sections.push({
      id: `section-${index + 1}`,
      title,
      table: resultTable(panel),
      figures,
      missing: drawn.missing,
    });
  }
  const paper = options.paper ? paperSection(options.paper, summaries) : null;
  if (paper?.rows.length) tables.push('paper vs measured');
  tables.push('provenance');
  const diverged = divergedTargets(records);
  const html = template()({
    diverged,
    title: options.title ?? 'PruneFuse report',
    overview: overview(records),
    kdSettings: kdSettings(records),
    claims,
    sections,
    paper,
    provenance: provenanceRows(groups),
    format: FORMAT,
  });
  return {
    html,
    tables,
    charts,
    notDrawn,
    claims: claims.map(({ id, title, verdict }) => ({ id, title, verdict })),
    diverged,
  };
}

function divergedTargets(records: readonly RunRecord[]): DivergedTarget[] {
  return records.flatMap((record) =>
    record.targets.flatMap(({ labelled, diverged }) =>
      diverged
        ? [{ id: record.id, run: describeRun(record.config), labelled, reason: diverged.reason }]
        : [],
    ),
  );
}

/**
 * The published figures that some measured group matches; the rest are only counted, so
 * that a report on data the paper never used says so in one line.
 */
function paperSection(paper: PaperBaseline, summaries: readonly GroupSummary[]) {
  const compared = comparePaper(paper, summaries);
  const rows = compared.filter((c) => c.matches.length > 0);
  const unmatched = compared.filter((c) => c.matches.length === 0);
  return {
    source: paper.paper,
    note: paper.note,
    rows,
    unmatched: {
      count: unmatched.length,
      datasets: [...new Set(unmatched.map((c) => c.entry.dataset))].sort(),
    },
  };
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
  duration: formatDuration,
  ratio: (r: number) => (r < 0.01 ? r.toExponential(1) : r.toFixed(2)),
};
