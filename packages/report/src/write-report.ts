import path from 'node:path';
import { writeFileAtomic } from '@prunefuse/results';
import { composeReport, type ReportOptions } from './html.js';
import { readStoreRecords } from './store-records.js';

export interface WrittenReport {
  /** The HTML file written. */
  out: string;
  tables: string[];
  charts: string[];
}

/** The report file inside an output directory: `--out reports/NAME` writes `reports/NAME/index.html`. */
export const REPORT_FILE = 'index.html';

/**
 * Renders every run of a store into `<outDir>/index.html`. A directory (rather than a
 * file name) leaves room beside the page for what a reader may add (screenshots, the
 * store's baseline) and gives each report a plain URL when published.
 */
export async function writeReport(
  storeDir: string,
  outDir: string,
  options: ReportOptions = {},
): Promise<WrittenReport> {
  const { html, tables, charts } = await composeReport(readStoreRecords(storeDir), options);
  const out = path.join(outDir, REPORT_FILE);
  writeFileAtomic(out, html);
  return { out, tables, charts };
}
