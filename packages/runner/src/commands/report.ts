import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadPaperBaseline, type PaperBaseline, writeReport } from '@prunefuse/report';
import { printJson, printText } from '../output.js';

const DEFAULT_PAPER = 'baselines/paper.json';

interface ReportOptions {
  out?: string;
  paper: string | false;
  title?: string;
  json?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'Render every run of a results store as one self-contained HTML page (tables, charts, paper figures)',
    )
    .argument('<store>', 'results store directory')
    .option(
      '--out <dir>',
      'output directory; the page is <dir>/index.html (default: reports/<store name>)',
    )
    .option('--paper <file>', 'published figures to set beside the measured ones', DEFAULT_PAPER)
    .option('--no-paper', 'leave the published figures out')
    .option('--title <text>', 'page title (default: PruneFuse report: <store name>)')
    .option('--json', 'print {out, tables, charts} as one JSON document on stdout')
    .action(async (store: string, options: ReportOptions, command: Command) => {
      const name = path.basename(path.resolve(store));
      const isDefault = command.getOptionValueSource('paper') === 'default';
      const written = await writeReport(store, options.out ?? path.join('reports', name), {
        title: options.title ?? `PruneFuse report: ${name}`,
        ...paperOption(options.paper, isDefault),
      });
      if (options.json) return printJson(written);
      printText(
        `wrote ${written.out}: ${written.tables.length} tables, ${written.charts.length} charts`,
      );
    });
}

/** The published figures from the default file, when this checkout has it. */
export function paperBaselineIfPresent(): { paper?: PaperBaseline } {
  return paperOption(DEFAULT_PAPER, true);
}

/** The default paper file is optional (a checkout elsewhere may lack it); one named on the command line is not. */
function paperOption(file: string | false, isDefault: boolean): { paper?: PaperBaseline } {
  if (file === false) return {};
  if (isDefault && !existsSync(file)) {
    console.error(
      `prunefuse report: ${file} not found; the report leaves out the published figures`,
    );
    return {};
  }
  return { paper: loadPaperBaseline(file) };
}
