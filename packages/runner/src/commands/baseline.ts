import { type Command, InvalidArgumentError } from 'commander';
import {
  baselineFromRecords,
  DEFAULT_TOLERANCES,
  readStoreRecords,
  writeRegressionBaseline,
} from '@prunefuse/report';
import { printJson, printText } from '../output.js';

interface WriteOptions {
  out: string;
  description?: string;
  accuracyDrop: number;
  macsGrowth: number;
  paramsGrowth: number;
  json?: boolean;
}

export function registerBaseline(program: Command): void {
  const baseline = program
    .command('baseline')
    .description('Record regression baselines for `check`');
  baseline
    .command('write')
    .description(
      'Record the seed means of every group and budget in a store as a regression baseline',
    )
    .argument('<store>', 'results store directory')
    .requiredOption('--out <file>', 'baseline file to write, e.g. baselines/quick.json')
    .option('--description <text>', 'what the baseline measures (default: names the store)')
    .option(
      '--accuracy-drop <points>',
      'accuracy points an entry may lose',
      nonNegative,
      DEFAULT_TOLERANCES.accuracyDropPoints,
    )
    .option(
      '--macs-growth <percent>',
      'percent MACs may grow',
      nonNegative,
      DEFAULT_TOLERANCES.macsGrowthPct,
    )
    .option(
      '--params-growth <percent>',
      'percent parameters may grow',
      nonNegative,
      DEFAULT_TOLERANCES.paramsGrowthPct,
    )
    .option('--json', 'print {out, entries, runs} as one JSON document on stdout')
    .action((store: string, options: WriteOptions) => {
      const records = readStoreRecords(store);
      const written = baselineFromRecords(records, {
        store,
        description:
          options.description ??
          `Measured regression baseline recorded from the results store ${store}`,
        defaults: {
          accuracyDropPoints: options.accuracyDrop,
          macsGrowthPct: options.macsGrowth,
          paramsGrowthPct: options.paramsGrowth,
        },
      });
      writeRegressionBaseline(options.out, written);
      const summary = { out: options.out, entries: written.entries.length, runs: records.length };
      if (options.json) return printJson(summary);
      printText(`wrote ${summary.out}: ${summary.entries} entries from ${summary.runs} runs`);
    });
}

function nonNegative(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`expected a non-negative number, got '${text}'`);
  }
  return value;
}
