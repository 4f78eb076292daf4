import { type KernelTime, parseBackendChoice, selectBackend } from '@prunefuse/engine';
import {
  architectureNames,
  BENCH_INPUT_SHAPES,
  type InputShape,
  profileTrainingStep,
} from '@prunefuse/models';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';

/** Input shapes by the names the bench cases use. */
export const INPUT_SHAPES: Readonly<Record<string, InputShape>> = BENCH_INPUT_SHAPES;

interface ProfileOptions {
  backend: string;
  model: string;
  shape: string;
  batch: number;
  steps: number;
  top: number;
  json?: boolean;
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description(
      'Profile one training step: unprofiled step time, then device time per tfjs kernel and ' +
        'per GPU program (webgpu timestamp queries), most expensive first',
    )
    .addOption(backendOption())
    .option('--model <arch>', `architecture (${architectureNames().join(', ')})`, 'resnet20')
    .option('--shape <name>', `input shape (${Object.keys(INPUT_SHAPES).join(', ')})`, 'cifar')
    .option('--batch <n>', 'batch size', parseCount, 128)
    .option('--steps <n>', 'unprofiled steps timed for the step time (median)', parseCount, 5)
    .option('--top <n>', 'rows per table in text output', parseCount, 15)
    .option('--json', 'print the whole profile as one JSON document on stdout')
    .action(async (options: ProfileOptions) => {
      if (!architectureNames().includes(options.model)) {
        throw new InvalidArgumentError(
          `--model: unknown architecture '${options.model}'; expected one of ${architectureNames().join(', ')}`,
        );
      }
      const input = INPUT_SHAPES[options.shape];
      if (!input) {
        throw new InvalidArgumentError(
          `--shape: unknown shape '${options.shape}'; expected one of ${Object.keys(INPUT_SHAPES).join(', ')}`,
        );
      }
      const { name, device } = await selectBackend(
        parseBackendChoice(options.backend, '--backend'),
      );
      const profile = await profileTrainingStep({
        arch: options.model,
        input,
        batch: options.batch,
        steps: options.steps,
      });
      const header = {
        backend: name,
        device,
        model: options.model,
        shape: options.shape,
        batch: options.batch,
      };
      if (options.json) return printJson({ ...header, ...profile });
      const table = (title: string, rows: readonly KernelTime[]) =>
        `${formatTable(
          [title, 'calls', 'ms', 'share'],
          rows
            .slice(0, options.top)
            .map((r) => [
              r.name,
              String(r.calls),
              r.ms.toFixed(3),
              `${(r.share * 100).toFixed(1)}%`,
            ]),
        )}\n`;
      printText(
        [
          `${options.model} training step, batch ${options.batch} ${options.shape}, ${name}: ${device}`,
          `step ${profile.stepMs.toFixed(2)} ms (${profile.imagesPerSec.toPrecision(4)} img/s); ` +
            `profiled kernels ${profile.kernelMs.toFixed(2)} ms over ${profile.invocations} invocations`,
          '',
          table('kernel', profile.kernels),
          ...(profile.programs.length > 0 ? [table('GPU program', profile.programs)] : []),
        ].join('\n'),
      );
    });
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}
