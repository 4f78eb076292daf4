import { type Command, Option } from 'commander';
import { BACKEND_NAMES, parseBackendChoice, probeBackends } from '@prunefuse/engine';
import { formatTable, printJson, printText } from '../output.js';

export function registerBackends(program: Command): void {
  program
    .command('backends')
    .description('List every tfjs backend, whether it works here, and which one a run would use')
    .addOption(backendOption())
    .option('--json', 'print one JSON array on stdout')
    .action(async (options: { backend: string; json?: boolean }) => {
      const reports = await probeBackends(parseBackendChoice(options.backend, '--backend'));
      if (options.json) return printJson(reports);
      printText(
        formatTable(
          ['backend', 'available', 'selected', 'device / reason'],
          reports.map((r) => [
            r.name,
            r.available ? 'yes' : 'no',
            r.selected ? '*' : '',
            r.available ? (r.device ?? '') : (r.reason ?? ''),
          ]),
        ),
      );
    });
}

/** The --backend option shared by every command that computes. */
export function backendOption(): Option {
  return new Option('--backend <name>', `auto or one of ${BACKEND_NAMES.join(', ')}`)
    .env('PRUNEFUSE_BACKEND')
    .default('auto');
}
