import {
  BACKEND_NAMES,
  type BackendName,
  parseBackendChoice,
  selectBackend,
} from '@prunefuse/engine';
import { architectureNames, compareTrainingStep } from '@prunefuse/models';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';
import { INPUT_SHAPES, parseCount } from './profile.js';

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
  program
    .command('verify')
    .description(
      'Check a backend numerically: one training step from the same weights and batch on it ' +
        'and on a reference backend must give the same loss and weight updates (exit 1 if not)',
    )
    .addOption(backendOption())
    .option('--reference <name>', `backend to compare against (${BACKEND_NAMES.join(', ')})`, 'cpu')
    .option('--model <arch>', 'architecture', 'resnet20')
    .option('--shape <name>', `input shape (${Object.keys(INPUT_SHAPES).join(', ')})`, 'cifar')
    .option('--batch <n>', 'batch size', parseCount, 8)
    .option(
      '--tolerance <r>',
      'largest relative error allowed for the loss and for any variable update',
      parseTolerance,
      1e-3,
    )
    .option('--json', 'print the comparison as one JSON document on stdout')
    .action(async (options: VerifyOptions) => {
      if (!architectureNames().includes(options.model))
        throw new InvalidArgumentError(`--model: unknown architecture '${options.model}'`);
      const input = INPUT_SHAPES[options.shape];
      if (!input) throw new InvalidArgumentError(`--shape: unknown shape '${options.shape}'`);
      const reference = parseBackendChoice(options.reference, '--reference');
      if (reference === 'auto') throw new InvalidArgumentError('--reference: name a backend');
      const { name: backend } = await selectBackend(
        parseBackendChoice(options.backend, '--backend'),
      );
      const agreement = await compareTrainingStep({
        arch: options.model,
        input,
        batch: options.batch,
        backend: backend as BackendName,
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

function parseTolerance(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}
