import { spawnSync } from 'node:child_process';
import os from 'node:os';
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
import { modelBenchCases, type PytorchReference, runPytorchReference } from '@prunefuse/models';
import { pruneFuseBenchCases } from '@prunefuse/prunefuse';
import { selectionBenchCases } from '@prunefuse/selection';
import { compiledModelBenchCases, compiledTrainerChosen } from '@prunefuse/webgpu-trainer';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { parseCount, parsePositive } from './option-parsers.js';

/** Where benchmark cases come from: each package contributes its own; add a line for a new one. */
const BENCH_SOURCES: ReadonlyArray<(options: CaseOptions) => BenchCase[]> = [
  kernelBenchCases,
  modelCases,
  dataBenchCases,
  selectionBenchCases,
  pruneFuseBenchCases,
];

/** What the bench command passes to every case source. */
interface CaseOptions {
  /** Images per iteration of the model cases. */
  batch: number;
}

/**
 * The model cases at a batch size: on webgpu measured on the compiled trainer, as
 * `prunefuse run` trains there, unless PRUNEFUSE_WEBGPU_TRAINER=tfjs asks for tfjs ops;
 * on the other backends with tfjs ops.
 */
function modelCases({ batch }: CaseOptions): BenchCase[] {
  const tfjs = modelBenchCases({ batch });
  if (!compiledTrainerChosen()) return tfjs;
  const withoutWebgpu = (backends: BenchCase['backends'] | undefined) =>
    (backends ?? []).filter((b) => b !== 'webgpu');
  return [
    ...tfjs.map((c) => ({
      ...c,
      backends: withoutWebgpu(c.backends),
      slowBackends: withoutWebgpu(c.slowBackends),
    })),
    ...compiledModelBenchCases({ batch }),
  ];
}

interface BenchOptions {
  batch: number;
  json?: boolean;
  filter?: string;
  backend?: BackendName[];
  slow?: boolean;
  time: number;
  pytorch?: string | true;
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
    .option(
      '--batch <n>',
      'images per iteration of the model cases (their names carry it, PyTorch runs the same)',
      parseCount,
      128,
    )
    .option(
      '--pytorch [python]',
      'also time the model cases in PyTorch eager with this interpreter (default python3), ' +
        'on CUDA when it sees a GPU, and give each tfjs figure as a ratio to it',
    )
    .action(async (options: BenchOptions) => {
      const python = options.pytorch === true ? 'python3' : options.pytorch;
      // Before minutes of tfjs timings, not after: a missing torch would throw them away.
      if (python !== undefined) checkTorchImports(python);
      const cases = BENCH_SOURCES.flatMap((source) => source({ batch: options.batch }));
      // Unless named, a CPU-emulated GPU is left out: it measures the emulator, not a GPU.
      const reports = (
        await probeBackends('auto', { probeWebgpu: options.backend?.includes('webgpu') })
      ).filter((r) =>
        options.backend
          ? r.available && options.backend.includes(r.name)
          : r.available && !r.emulated,
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
      const modelCases = [...new Set(rows.map((r) => r.name))].filter((n) =>
        n.startsWith('model/'),
      );
      let pytorch: PytorchReference | null = null;
      if (python !== undefined && modelCases.length > 0) {
        pytorch = await runPytorchReference(modelCases, {
          python,
          seconds: options.time / 1000,
        });
      }
      const backends = reports.map((r) => ({
        name: r.name,
        device: r.device,
        ...(r.name === 'wasm' ? { threads: wasmThreadsInUse() } : {}),
        // Which implementation the webgpu model cases measured.
        ...(r.name === 'webgpu' ? { trainer: compiledTrainerChosen() ? 'compiled' : 'tfjs' } : {}),
      }));
      if (options.json) {
        return printJson({
          backends,
          rows,
          ...(pytorch ? { pytorch, ratios: ratiosToPytorch(rows, pytorch) } : {}),
        });
      }
      const devices = backends.map((b) => {
        const threads = b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : '';
        const trainer = b.trainer ? `; model cases on the ${b.trainer} trainer` : '';
        return `${b.name}: ${b.device}${threads}${trainer}`;
      });
      if (pytorch) devices.push(`pytorch: ${pytorch.device}`);
      const table = sideBySide(
        rows,
        backends.map((b) => b.name),
        pytorch,
      );
      printText(`${devices.join('\n')}\n\n${table}`);
    });
}

/** Throws, saying what to do, unless `python` starts and imports torch. */
export function checkTorchImports(python: string): void {
  // From a neutral folder, asking for a version: a folder named torch/ in the working
  // directory would otherwise import as an empty namespace package.
  const probe = spawnSync(python, ['-c', 'import torch; torch.__version__'], {
    encoding: 'utf8',
    cwd: os.tmpdir(),
  });
  if (probe.error) {
    throw new Error(`--pytorch: could not start '${python}': ${probe.error.message}`);
  }
  if (probe.status !== 0) {
    const reason = probe.stderr.trim().split('\n').at(-1) || `exit code ${probe.status}`;
    throw new Error(
      `--pytorch: '${python}' cannot import torch (${reason}); nothing was measured. Install ` +
        "PyTorch for it (Debian's python3: apt-get install python3-torch) or name an " +
        'interpreter that has it: --pytorch /path/to/python',
    );
  }
}

function parseBackendList(value: string): BackendName[] {
  return value.split(',').map((name) => {
    const choice = parseBackendChoice(name.trim(), '--backend');
    if (choice === 'auto') throw new InvalidArgumentError('name backends, not auto');
    return choice;
  });
}

/** The figure a case is judged by: GFLOP/s for kernels, images/s end to end, else ops/s. */
function formatRow(row: BenchRow): string {
  const spread = `±${row.rmePercent.toFixed(0)}%`;
  if (row.gflops !== null) return `${row.gflops.toPrecision(3)} GFLOP/s ${spread}`;
  if (row.imagesPerSec !== null) return `${row.imagesPerSec.toPrecision(3)} img/s ${spread}`;
  return `${row.opsPerSec.toPrecision(3)} ops/s ${spread}`;
}

/** Each tfjs images/s figure over PyTorch's for the same case, measured in the same run. */
function ratiosToPytorch(
  rows: readonly BenchRow[],
  pytorch: PytorchReference,
): { name: string; backend: BackendName; ratio: number }[] {
  return rows.flatMap((row) => {
    const reference = pytorch.rows.find((p) => p.name === row.name);
    if (!reference || row.imagesPerSec === null) return [];
    return [
      { name: row.name, backend: row.backend, ratio: row.imagesPerSec / reference.imagesPerSec },
    ];
  });
}

/** One line per case, one column per backend, then PyTorch with each figure's ratio to it. */
function sideBySide(
  rows: readonly BenchRow[],
  backends: readonly BackendName[],
  pytorch: PytorchReference | null,
): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const columns = backends.filter((b) => rows.some((r) => r.backend === b));
  return formatTable(
    ['case', ...columns, ...(pytorch ? ['pytorch'] : [])],
    names.map((name) => {
      const reference = pytorch?.rows.find((p) => p.name === name);
      return [
        name,
        ...columns.map((backend) => {
          const row = rows.find((r) => r.name === name && r.backend === backend);
          if (!row) return '-';
          const ratio =
            reference && row.imagesPerSec !== null
              ? ` (${(row.imagesPerSec / reference.imagesPerSec).toPrecision(2)}x pytorch)`
              : '';
          return `${formatRow(row)}${ratio}`;
        }),
        ...(pytorch ? [reference ? `${reference.imagesPerSec.toPrecision(3)} img/s` : '-'] : []),
      ];
    }),
  );
}
