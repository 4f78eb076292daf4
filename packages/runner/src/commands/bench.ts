import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dataBenchCases } from '@prunefuse/data';
import {
  BACKEND_NAMES,
  type BackendName,
  type BenchCase,
  type BenchRow,
  kernelBenchCases,
  matchesFilter,
  parseBackendChoice,
  probeBackends,
  runBench,
  useBackend,
  wasmThreadsInUse,
} from '@prunefuse/engine';
import {
  modelBenchCases,
  type PytorchKernelReference,
  type PytorchReference,
  runPytorchKernelReference,
  runPytorchReference,
} from '@prunefuse/models';
import { prunedSpec, pruneFuseBenchCases } from '@prunefuse/prunefuse';
import { selectionBenchCases } from '@prunefuse/selection';
import {
  compiledKernelBenchCases,
  compiledModelBenchCases,
  compiledTrainerChosen,
  kernelOps,
  type TileTable,
  tileLabel,
  tuneConvTiles,
} from '@prunefuse/webgpu-trainer';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { parseCount, parsePositive } from './option-parsers.js';

/** Where benchmark cases come from: each package contributes its own; add a line for a new one. */
const BENCH_SOURCES: ReadonlyArray<(options: CaseOptions) => BenchCase[]> = [
  kernelBenchCases,
  // The compiled trainer's kernels at every conv and batch-norm shape of the registry's
  // ResNets, pruned widths from PruneFuse's own rule.
  ({ batch }) => compiledKernelBenchCases({ prune: prunedSpec, batch }),
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
  tune?: string;
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
      'images per iteration of the model and compiled-kernel cases, and of --tune (their names ' +
        'carry it, PyTorch runs the same)',
      parseCount,
      128,
    )
    .option(
      '--pytorch [python]',
      "also time the model cases (and the compiled trainer's kernel/conv, kernel/batchnorm " +
        'cases) in PyTorch eager with this interpreter (default python3), on CUDA when it ' +
        'sees a GPU, and give each figure as a ratio to it',
    )
    .option(
      '--tune <table.json>',
      "instead of benchmarking, measure the compiled trainer's grid of GEMM tile sizes on " +
        'every kernel/conv case matching --filter, on this webgpu adapter, and write the ' +
        'fastest per shape into this tile table (entries already in it are kept unless ' +
        're-measured); the trainer reads packages/webgpu-trainer/src/kernels/tiles.json',
    )
    .action(async (options: BenchOptions) => {
      if (options.tune !== undefined) return tune(options.tune, options);
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
      const kernelCases = [
        ...new Map(
          rows.filter((r) => PYTORCH_KERNEL_CASE.test(r.name)).map((r) => [r.name, r.repeats]),
        ),
      ].map(([name, repeats]) => ({ name, repeats }));
      let pytorchKernels: PytorchKernelReference | null = null;
      if (python !== undefined && kernelCases.length > 0) {
        pytorchKernels = await runPytorchKernelReference(kernelCases, {
          python,
          seconds: options.time / 1000,
        });
      }
      const reference = referenceTimes(pytorch, pytorchKernels);
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
          ...(pytorch ? { pytorch } : {}),
          ...(pytorchKernels ? { pytorchKernels } : {}),
          ...(reference.size > 0 ? { ratios: ratiosToPytorch(rows, reference) } : {}),
        });
      }
      const devices = backends.map((b) => {
        const threads = b.threads ? `, ${b.threads} thread${b.threads > 1 ? 's' : ''}` : '';
        const trainer = b.trainer ? `; model cases on the ${b.trainer} trainer` : '';
        return `${b.name}: ${b.device}${threads}${trainer}`;
      });
      const pytorchDevice = pytorch?.device ?? pytorchKernels?.device;
      if (pytorchDevice) devices.push(`pytorch: ${pytorchDevice}`);
      const table = sideBySide(
        rows,
        backends.map((b) => b.name),
        reference,
      );
      printText(`${devices.join('\n')}\n\n${table}`);
    });
}

/**
 * `bench --tune`: the tile search on the webgpu adapter, written as a tile table whose
 * provenance names the adapter, the date and the cases; a CPU-emulated adapter's table
 * says that it does not transfer to a GPU.
 */
async function tune(file: string, options: BenchOptions): Promise<void> {
  const [webgpu] = (await probeBackends('auto', { probeWebgpu: true })).filter(
    (r) => r.name === 'webgpu',
  );
  if (!webgpu?.available) {
    throw new Error(
      '--tune: no webgpu adapter here (see `prunefuse backends`); nothing was measured',
    );
  }
  const ops = kernelOps({ prune: prunedSpec, batch: options.batch }).filter(
    ({ name }) => name.startsWith('kernel/conv/') && matchesFilter(name, options.filter),
  );
  if (ops.length === 0) {
    throw new Error(
      `--tune: no kernel/conv case matched${options.filter ? ` --filter '${options.filter}'` : ''}`,
    );
  }
  const start = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as TileTable)
    : undefined;
  await useBackend('webgpu');
  const { entries, results } = await tuneConvTiles({
    ops,
    timeMs: options.time,
    start,
    onResult: (r) =>
      process.stderr.write(
        `${r.name}: ${tileLabel(r.best)} ${r.bestMs.toPrecision(3)} ms ` +
          `(was ${r.currentMs.toPrecision(3)} ms, ${r.tried} tried)\n`,
      ),
  });
  const emulated = webgpu.emulated
    ? ' CPU-emulated adapter: these timings do not transfer to a GPU; the trainer does not read this table.'
    : '';
  const table: TileTable = {
    provenance:
      `prunefuse bench --tune${options.filter ? ` --filter '${options.filter}'` : ''} ` +
      `--time ${options.time}, ${new Date().toISOString()}: the fastest of the tile grid ` +
      `per shape at batch ${options.batch} (median time of repeated runs).${emulated}`,
    adapter: webgpu.device,
    entries: Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
  if (options.json) return printJson({ adapter: webgpu.device, file, table, results });
  printText(
    formatTable(
      ['case', 'tile', 'ms', 'previous ms', 'speed-up'],
      results.map((r) => [
        r.name,
        tileLabel(r.best),
        r.bestMs.toPrecision(3),
        r.currentMs.toPrecision(3),
        `${(r.currentMs / r.bestMs).toFixed(2)}x`,
      ]),
    ),
  );
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

/** Kernel cases kernel_bench.py has a PyTorch twin for. */
const PYTORCH_KERNEL_CASE = /^kernel\/(conv|batchnorm)\//;

/** PyTorch's timing of one case: milliseconds per operation (a model case: per batch, and images/s). */
interface ReferenceTime {
  meanMs: number;
  imagesPerSec?: number;
}

function referenceTimes(
  models: PytorchReference | null,
  kernels: PytorchKernelReference | null,
): Map<string, ReferenceTime> {
  return new Map<string, ReferenceTime>([
    ...(models?.rows ?? []).map((row) => [row.name, row] as const),
    ...(kernels?.rows ?? []).map((row) => [row.name, row] as const),
  ]);
}

/** The figure a case is judged by: FLOP/s for kernels, GB/s, images/s end to end, else ops/s. */
function formatRow(row: BenchRow): string {
  const spread = `±${row.rmePercent.toFixed(0)}%`;
  if (row.gflops !== null) {
    return row.gflops >= 1000
      ? `${(row.gflops / 1000).toPrecision(3)} TFLOP/s ${spread}`
      : `${row.gflops.toPrecision(3)} GFLOP/s ${spread}`;
  }
  if (row.gbPerSec !== null) return `${row.gbPerSec.toPrecision(3)} GB/s ${spread}`;
  if (row.imagesPerSec !== null) return `${row.imagesPerSec.toPrecision(3)} img/s ${spread}`;
  return `${row.opsPerSec.toPrecision(3)} ops/s ${spread}`;
}

/**
 * A figure over PyTorch's for the same case, measured in the same run: the ratio of
 * images/s for a model case, else PyTorch's time for one operation over ours.
 */
function ratioToPytorch(row: BenchRow, reference: ReferenceTime): number {
  if (row.imagesPerSec !== null && reference.imagesPerSec !== undefined) {
    return row.imagesPerSec / reference.imagesPerSec;
  }
  return reference.meanMs / (row.meanMs / row.repeats);
}

function formatReference(reference: ReferenceTime): string {
  return reference.imagesPerSec === undefined
    ? `${reference.meanMs.toPrecision(3)} ms`
    : `${reference.imagesPerSec.toPrecision(3)} img/s`;
}

function ratiosToPytorch(
  rows: readonly BenchRow[],
  reference: ReadonlyMap<string, ReferenceTime>,
): { name: string; backend: BackendName; ratio: number }[] {
  return rows.flatMap((row) => {
    const time = reference.get(row.name);
    if (time === undefined) return [];
    return [{ name: row.name, backend: row.backend, ratio: ratioToPytorch(row, time) }];
  });
}

/** One line per case, one column per backend, then PyTorch with each figure's ratio to it. */
function sideBySide(
  rows: readonly BenchRow[],
  backends: readonly BackendName[],
  reference: ReadonlyMap<string, ReferenceTime>,
): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const columns = backends.filter((b) => rows.some((r) => r.backend === b));
  return formatTable(
    ['case', ...columns, ...(reference.size > 0 ? ['pytorch'] : [])],
    names.map((name) => {
      const time = reference.get(name);
      return [
        name,
        ...columns.map((backend) => {
          const row = rows.find((r) => r.name === name && r.backend === backend);
          if (!row) return '-';
          const ratio =
            time === undefined ? '' : ` (${ratioToPytorch(row, time).toPrecision(2)}x pytorch)`;
          return `${formatRow(row)}${ratio}`;
        }),
        ...(reference.size > 0 ? [time === undefined ? '-' : formatReference(time)] : []),
      ];
    }),
  );
}
