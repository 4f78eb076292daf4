export { type ReportOptions, type ReportContents, renderReport, composeReport } from './html.js';
export { type WrittenReport, REPORT_FILE, writeReport } from './write-report.js';
export { readStoreRecords } from './store-records.js';
export { methodLabel } from './method-label.js';
export { type Stat, summarize } from './stats.js';
export { type GroupKey, groupKeyText } from './groups.js';
export { type BudgetSummary, type GroupSummary, summarizeRuns } from './aggregate.js';
export {
  type PaperBaseline,
  type PaperEntry,
  type PaperComparison,
  type PaperMatch,
  paperBaselineSchema,
  loadPaperBaseline,
  comparePaper,
} from './paper.js';
export {
  type Tolerances,
  type RegressionBaseline,
  type BaselineEntry,
  type BaselineKey,
  DEFAULT_TOLERANCES,
  regressionBaselineSchema,
  baselineKeyText,
  loadRegressionBaseline,
  baselineFromRecords,
  writeRegressionBaseline,
} from './baseline.js';
export {
  type CheckStatus,
  type CheckedMetric,
  type MetricCheck,
  type CheckRow,
  type CheckResult,
  checkAgainstBaseline,
} from './check.js';
