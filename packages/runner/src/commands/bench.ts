import { type Command, InvalidArgumentError } from 'commander';
import { dataBenchCases } from '@prunefuse/data';
import {
  BACKEND_NAMES,
  type BackendName,
  type BenchCase,
  type BenchRow,
  kernelBenchCases,
  parseBackendChoice,
  probeBackends,
  runBench,
  wasmThreadsInUse,
} from '@prunefuse/engine';
import { modelBenchCases } from '@prunefuse/models';
import { pruneFuseBenchCases } from '@prunefuse/prunefuse';
import { selectionBenchCases } from '@prunefuse/selection';
import { formatTable, printJson, printText } from '../output.js';

/** Where benchmark cases come from: each package contributes its own; add a line for a new one. */
const BENCH_SOURCES: ReadonlyArray<() => BenchCase[]> = [
  kernelBenchCases,
  modelBenchCases,
  dataBenchCases,
  selectionBenchCases,
  pruneFuseBenchCases,
];

interface BenchOptions {
  json?: boolean;
  filter?: string;
  backend?: BackendName[];
  slow?: boolean;
  time: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'Measure kernels (GFLOP/s), end-to-end training and inference (images/s) and other ' +
        'registered cases on every available backend, side by side',
    )
    .option('--json', 'print {backends, rows} as one JSON document on stdout')
    .option('--filter <name>', 'only cases whose name contains this text (or matches /regex/)')
    .option(
      '--backend <names>',
      `comma-separated backends to measure (default: every available one of ${BACKEND_NAMES.join(', ')})`,
      parseBackendList,
    )
    .option(
      '--slow',
      'also run cases that take seconds per iteration (the cpu backend training convnets)',
    )
    .option('--time <ms>', 'minimum measuring time per case and backend', parsePositive, 1000)
    .action(async (options: BenchOptions) => {
      const cases = BENCH_SOURCES.flatMap((source) => source());
      const reports = (await probeBackends('auto')).filter(
        (r) => r.available && (!options.backend || options.backend.includes(r.name)),
      );
      for (const name of options.backend ?? []) {
        if (!reports.some((r) => r.name === name)) {
          throw new Error(
            `--backend: backend '${name}' is unavailable here (see \`prunefuse backends\`)`,
          );
        }
      }
      const rows = await runBench(cases, {
        filter: options.filter,
        backends: reports.map((r) => r.name),
        includeSlow: options.slow,
        timeMs: options.time,
        onRow: (row) => process.stderr.write(`${row.name} [${row.backend}]: ${formatRow(row)}\n`),
      });
      if (rows.length === 0) {
        throw new Error(
          `no benchmark case matched${options.filter ? ` --filter '${options.filter}'` : ''}`,
        );
      }
      const backends = reports.map((r) => ({
        name: r.name,
        device: r.device,
        ...(r.name === 'wasm' ? { threads: wasmThreadsInUse() } : {}),
      }));
      if (options.json) return printJson({ backends, rows });
      const devices = backends.map((b) => {
        const threads = b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : '';
        return `${b.name}: ${b.device}${threads}`;
      });
      const table = sideBySide(
        rows,
        backends.map((b) => b.name),
      );
      printText(`${devices.join('\n')}\n\n${table}`);
    });
}

function parseBackendList(value: string): BackendName[] {
  return value.split(',').map((name) => {
    const choice = parseBackendChoice(name.trim(), '--backend');
    if (choice === 'auto') throw new InvalidArgumentError('name backends, not auto');
    return choice;
  });
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

/** The figure a case is judged by: GFLOP/s for kernels, images/s end to end, else ops/s. */
function formatRow(row: BenchRow): string {
  const spread = `±${row.rmePercent.toFixed(0)}%`;
  if (row.gflops !== null) return `${row.gflops.toPrecision(3)} GFLOP/s ${spread}`;
  if (row.imagesPerSec !== null) return `${row.imagesPerSec.toPrecision(3)} img/s ${spread}`;
  return `${row.opsPerSec.toPrecision(3)} ops/s ${spread}`;
}

/** One line per case, one column per backend. */
function sideBySide(rows: readonly BenchRow[], backends: readonly BackendName[]): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const columns = backends.filter((b) => rows.some((r) => r.backend === b));
  return formatTable(
    ['case', ...columns],
    names.map((name) => [
      name,
      ...columns.map((backend) => {
        const row = rows.find((r) => r.name === name && r.backend === backend);
        return row ? formatRow(row) : '-';
      }),
    ]),
  );
}
