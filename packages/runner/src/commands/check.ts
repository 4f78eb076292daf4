import {
  type AccuracyAcrossBackends,
  type CheckResult,
  type CheckRow,
  checkAgainstBaseline,
  loadRegressionBaseline,
  type MetricCheck,
  readStoreRecords,
} from '@prunefuse/report';
import type { Command } from 'commander';
import { formatTable, printJson, printText } from '../output.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'Compare a results store with a regression baseline: exit 1 when accuracy dropped, MACs or ' +
        'parameters grew beyond tolerance, a baseline run is missing, a measured value is not a ' +
        'sound figure (non-finite, out of range) or a run diverged',
    )
    .argument('<store>', 'results store directory')
    .requiredOption('--baseline <file>', 'baseline file, e.g. baselines/quick.json')
    .option('--json', 'print the full check result as one JSON document on stdout')
    .action((store: string, options: { baseline: string; json?: boolean }) => {
      const baseline = loadRegressionBaseline(options.baseline);
      const result = checkAgainstBaseline(readStoreRecords(store), baseline);
      if (options.json) printJson(result);
      else printText(formatCheck(result));
      if (!result.ok) process.exitCode = 1;
    });
}

function formatCheck(result: CheckResult): string {
  const table = formatTable(
    ['status', 'run group', 'accuracy % (baseline -> measured)', 'delta', 'MACs total', 'problems'],
    result.rows.map((row) => {
      const accuracy = metric(row, 'accuracyPct');
      const macs = metric(row, 'macs.total');
      return [
        row.status === 'pass' || row.status === 'improved' ? row.status : row.status.toUpperCase(),
        row.keyText,
        `${fixed(accuracy.baseline)} -> ${accuracy.measured === null ? 'none' : fixed(accuracy.measured)}`,
        accuracy.delta === null
          ? ''
          : `${signed(accuracy.delta)} ${
              row.accuracyGate === 'entry'
                ? `(may drop ${fixed(accuracy.tolerance)})`
                : '(held by the mean below)'
            }`,
        macs.deltaPct === null ? '' : `${signed(macs.deltaPct, 1)}% (may grow ${macs.tolerance}%)`,
        problems(row).join('; '),
      ];
    }),
  );
  const { pass, improved, regressed, missing, invalid } = result.counts;
  const lines = [table];
  if (result.accuracyAcrossBackends)
    lines.push('', ...formatAcrossBackends(result.accuracyAcrossBackends));
  if (result.problems.length > 0) {
    lines.push('', 'unsound runs (each fails the check):', ...result.problems.map((p) => `  ${p}`));
  }
  lines.push(
    '',
    `${pass} pass, ${improved} improved, ${regressed} regressed, ${missing} missing, ${invalid} invalid, ` +
      `${result.problems.length} problems: ${result.ok ? 'OK' : 'FAIL'}`,
  );
  if (improved > 0) lines.push('improved entries pass; record a new baseline to keep the gain');
  if (result.unbaselined.length) {
    lines.push(`not in the baseline (not checked): ${result.unbaselined.join('; ')}`);
  }
  const beyond = [...new Set(result.rows.flatMap((r) => r.seeds.notCompared))].sort(
    (a, b) => a - b,
  );
  if (beyond.length) {
    lines.push(
      `seeds ${beyond.join(', ')} not in the baseline (not compared: each entry is held to the ` +
        "mean over the baseline's own seeds; record a new baseline to include them)",
    );
  }
  return lines.join('\n');
}

function formatAcrossBackends(across: AccuracyAcrossBackends): string[] {
  const { meanDeltaPoints: mean, upperBoundPoints: upper, tolerancePoints: tolerance } = across;
  const verdict =
    mean === null
      ? 'no group measured: MISSING'
      : `mean ${signed(mean)} points over ${across.groups.length} groups` +
        (upper === null ? '' : `, 97.5% upper bound ${signed(upper)}`) +
        `; fails when ${upper === null ? 'the mean' : 'the bound'} is below -${fixed(tolerance)}: ` +
        (across.status === 'pass' ? 'pass' : 'REGRESSED');
  return [
    `runs on ${across.measuredBackends.join('; ')}`,
    `baseline made on ${across.baselineBackends.join('; ')}`,
    'float rounding differs between backends and devices and small-budget training amplifies it, ' +
      "so each entry's accuracy is shown and the mean over run groups is gated:",
    ...across.groups.map(
      (g) => `  ${signed(g.deltaPoints)}  ${g.group} (mean of ${g.entries} budgets)`,
    ),
    `accuracy across backends: ${verdict}`,
  ];
}

function metric(row: CheckRow, name: MetricCheck['metric']): MetricCheck {
  return row.metrics.find((m) => m.metric === name)!;
}

function problems(row: CheckRow): string[] {
  const found: string[] = [];
  if (row.status === 'invalid') found.push('unsound measurements (listed below the table)');
  if (row.seeds.measured.length === 0) found.push('no measured runs');
  else if (row.seeds.missing.length) found.push(`seeds missing: ${row.seeds.missing.join(', ')}`);
  for (const m of row.metrics) {
    if (
      m.status === 'pass' ||
      m.status === 'invalid' ||
      m.metric === 'accuracyPct' ||
      m.measured === null
    )
      continue;
    const change = m.deltaPct === null ? `from 0 to ${m.measured}` : `${signed(m.deltaPct, 1)}%`;
    found.push(`${m.metric} ${m.status} ${change} (tolerance ${m.tolerance}%)`);
  }
  const accuracy = metric(row, 'accuracyPct');
  if (accuracy.status === 'regressed' && row.accuracyGate === 'entry')
    found.push(`accuracy dropped more than ${fixed(accuracy.tolerance)} points`);
  return found;
}

function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}

function signed(value: number, digits = 2): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}
