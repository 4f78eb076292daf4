import {
  BACKEND_NAMES,
  type BackendReport,
  parseBackendChoice,
  parseGpuChoice,
  probeBackends,
  useGpu,
} from '@prunefuse/engine';
import { type Command, Option } from 'commander';
import { formatTable, printJson, printText } from '../output.js';

interface BackendsOptions {
  backend: string;
  gpu?: string;
  json?: boolean;
  verbose?: boolean;
}

export function registerBackends(program: Command): void {
  program
    .command('backends')
    .description('List every tfjs backend, whether it works here, and which one a run would use')
    .addOption(backendOption())
    .option(
      '--gpu <N|auto>',
      'the GPU webgpu takes (default: $PRUNEFUSE_GPU, else the default adapter)',
    )
    .option('--json', 'print one JSON array on stdout')
    .option('--verbose', 'print each device and reason in full')
    .action(async (options: BackendsOptions) => {
      if (options.gpu !== undefined) useGpu(parseGpuChoice(options.gpu, '--gpu'));
      // Dawn prints native warnings when it loads: only for the details, or when asked for.
      const reports = await probeBackends(parseBackendChoice(options.backend, '--backend'), {
        probeWebgpu: Boolean(options.verbose || options.json),
      });
      if (options.json) return printJson(reports);
      const header = ['backend', 'available', 'selected', 'device / reason'];
      const rows = reports.map((r) => [
        r.name,
        r.available ? 'yes' : 'no',
        r.selected ? '*' : '',
        r.available ? (r.device ?? '') : (r.reason ?? ''),
      ]);
      const adapters = adapterLines(reports);
      if (options.verbose) return printText([formatTable(header, rows), ...adapters].join('\n'));
      const fitted = fitLastColumn(header, rows, TERMINAL_COLUMNS);
      const cut = rows.some((row, i) => row.at(-1) !== fitted[i]!.at(-1));
      const table = formatTable(header, fitted);
      printText(
        [
          cut
            ? `${table}\n(cut to ${TERMINAL_COLUMNS} columns: --verbose or --json prints all)`
            : table,
          ...adapters,
        ].join('\n'),
      );
    });
}

/**
 * The WebGPU adapters Dawn lists, in its order (--gpu counts the hardware ones in it),
 * the one webgpu runs on marked: Dawn's first unless a GPU was asked for, none when
 * webgpu cannot run.
 */
function adapterLines(reports: readonly BackendReport[]): string[] {
  const webgpu = reports.find((r) => r.name === 'webgpu');
  if (!webgpu?.adapters?.length) return [];
  const used = webgpu.available ? (webgpu.gpu?.adapter ?? webgpu.adapters[0]!.name) : null;
  return [
    `webgpu adapters${webgpu.gpu ? ` (GPU ${webgpu.gpu.index} from ${webgpu.gpu.source})` : ''}:`,
    ...webgpu.adapters.map(
      (a, i) => `  ${a.name === used ? '*' : ' '} ${i}  ${a.name} (${a.backend})`,
    ),
  ];
}

/** A table that reads in a standard terminal without wrapping. */
const TERMINAL_COLUMNS = 100;

/** Cuts the last column's cells (with an ellipsis) so that no table line exceeds `width`. */
export function fitLastColumn(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  width: number,
): string[][] {
  const leading = header
    .slice(0, -1)
    .map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2)
    .reduce((sum, w) => sum + w, 0);
  const room = Math.max(header.at(-1)!.length, width - leading);
  return rows.map((row) => {
    const last = row.at(-1) ?? '';
    return [...row.slice(0, -1), last.length <= room ? last : `${last.slice(0, room - 1)}…`];
  });
}

/** The --backend option shared by every command that computes. */
export function backendOption(): Option {
  return new Option('--backend <name>', `auto or one of ${BACKEND_NAMES.join(', ')}`)
    .env('PRUNEFUSE_BACKEND')
    .default('auto');
}
