import { BACKEND_NAMES, parseBackendChoice, selectBackend } from '@prunefuse/engine';
import { compareTrainingStep } from '@prunefuse/models';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';
import { parseCount, parsePositive } from './option-parsers.js';
import { addWorkloadOptions, trainingWorkload } from './training-workload.js';

interface VerifyOptions {
  backend: string;
  reference: string;
  model: string;
  shape: string;
  batch: number;
  tolerance: number;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description(
      'Check a backend numerically: one training step from the same weights and batch on it ' +
        'and on a reference backend must give the same loss and weight updates (exit 1 if not)',
    )
    .addOption(backendOption())
    .option(
      '--reference <name>',
      `backend to compare against (${BACKEND_NAMES.join(', ')})`,
      'cpu',
    );
  addWorkloadOptions(command)
    .option('--batch <n>', 'batch size', parseCount, 8)
    .option(
      '--tolerance <r>',
      'largest relative error allowed for the loss and for any variable update',
      parsePositive,
      1e-3,
    )
    .option('--json', 'print the comparison as one JSON document on stdout')
    .action(async (options: VerifyOptions) => {
      const { arch, input } = trainingWorkload(options);
      const reference = parseBackendChoice(options.reference, '--reference');
      if (reference === 'auto') throw new InvalidArgumentError('--reference: name a backend');
      const { name: backend } = await selectBackend(
        parseBackendChoice(options.backend, '--backend'),
      );
      const agreement = await compareTrainingStep({
        arch,
        input,
        batch: options.batch,
        backend,
        reference,
      });
      const worst = agreement.updates[0]!;
      const pass =
        agreement.loss.relativeError <= options.tolerance &&
        worst.relativeError <= options.tolerance;
      if (options.json) {
        printJson({
          ...agreement,
          model: options.model,
          batch: options.batch,
          tolerance: options.tolerance,
          pass,
        });
      } else {
        printText(
          [
            `${options.model}, batch ${options.batch} ${options.shape}: ${backend} against ${reference}, tolerance ${options.tolerance}`,
            `loss ${agreement.loss.backend} vs ${agreement.loss.reference} (relative error ${agreement.loss.relativeError.toExponential(2)})`,
            formatTable(
              ['variable update', 'relative error'],
              agreement.updates.slice(0, 5).map((u) => [u.name, u.relativeError.toExponential(2)]),
            ),
            pass ? 'PASS' : 'FAIL',
          ].join('\n'),
        );
      }
      if (!pass) process.exitCode = 1;
    });
}
