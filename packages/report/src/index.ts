export { type BudgetSummary, type GroupSummary, summarizeRuns } from './aggregate.js';
export {
  type BaselineEntry,
  type BaselineKey,
  baselineFromRecords,
  baselineKeyText,
  DEFAULT_TOLERANCES,
  loadRegressionBaseline,
  type RegressionBaseline,
  regressionBaselineSchema,
  type Tolerances,
  writeRegressionBaseline,
} from './baseline.js';
export {
  type AccuracyAcrossBackends,
  type AccuracyGate,
  type CheckedMetric,
  type CheckResult,
  type CheckRow,
  type CheckStatus,
  checkAgainstBaseline,
  type MetricCheck,
} from './check.js';
export { CLAIM_IDS, type ClaimId, type Verdict } from './claims.js';
export { formatDuration } from './duration.js';
export { type GroupKey, groupKeyText } from './groups.js';
export { composeReport, type ReportContents, type ReportOptions, renderReport } from './html.js';
export { methodLabel } from './method-label.js';
export {
  comparePaper,
  loadPaperBaseline,
  type PaperBaseline,
  type PaperComparison,
  type PaperEntry,
  type PaperMatch,
  paperBaselineSchema,
} from './paper.js';
export { type Stat, summarize } from './stats.js';
export { readStoreRecords } from './store-records.js';
export { REPORT_FILE, type WrittenReport, writeReport } from './write-report.js';
