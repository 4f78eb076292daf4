import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadPaperBaseline, type PaperBaseline, REPORT_FILE, writeReport } from '@prunefuse/report';
import { isTrackedByGit } from '../git-tracked.js';
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
      'output directory; the page is <dir>/index.html (default: <store>/report, beside the runs)',
    )
    .option('--paper <file>', 'published figures to set beside the measured ones', DEFAULT_PAPER)
    .option('--no-paper', 'leave the published figures out')
    .option('--title <text>', 'page title (default: PruneFuse report: <store name>)')
    .option('--json', 'print {out, tables, charts} as one JSON document on stdout')
    .action(async (store: string, options: ReportOptions, command: Command) => {
      const name = path.basename(path.resolve(store));
      const isDefault = command.getOptionValueSource('paper') === 'default';
      const outDir = options.out ?? path.join(store, 'report');
      const page = path.join(outDir, REPORT_FILE);
      // A default location must never replace a committed page (a sample report); naming
      // it with --out says that is meant.
      if (options.out === undefined && isTrackedByGit(page)) {
        throw new Error(
          `${page} is tracked by git; pass --out ${outDir} to replace it, or --out another folder`,
        );
      }
      const written = await writeReport(store, outDir, {
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
