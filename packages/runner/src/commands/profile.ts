import { type KernelTime, parseBackendChoice, selectBackend } from '@prunefuse/engine';
import { profileTrainingStep } from '@prunefuse/models';
import type { Command } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';
import { parseCount } from './option-parsers.js';
import { addWorkloadOptions, trainingWorkload } from './training-workload.js';

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
  const command = program
    .command('profile')
    .description(
      'Profile one training step: unprofiled step time, then device time per tfjs kernel and ' +
        'per GPU program (webgpu timestamp queries), most expensive first',
    )
    .addOption(backendOption());
  addWorkloadOptions(command)
    .option('--batch <n>', 'batch size', parseCount, 128)
    .option('--steps <n>', 'unprofiled steps timed for the step time (median)', parseCount, 5)
    .option('--top <n>', 'rows per table in text output', parseCount, 15)
    .option('--json', 'print the whole profile as one JSON document on stdout')
    .action(async (options: ProfileOptions) => {
      const { arch, input } = trainingWorkload(options);
      const { name, device } = await selectBackend(
        parseBackendChoice(options.backend, '--backend'),
      );
      const profile = await profileTrainingStep({
        arch,
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
          `step ${profile.stepMs.toFixed(2)} ms (${profile.imagesPerSec.toPrecision(4)} img/s), ` +
            `${profile.issueMs.toFixed(2)} ms of it issuing the step on the host; ` +
            `profiled kernels ${profile.kernelMs.toFixed(2)} ms over ${profile.invocations} invocations` +
            (profile.dispatches > 0 ? `, ${profile.dispatches} GPU program launches` : ''),
          '',
          table('kernel', profile.kernels),
          ...(profile.programs.length > 0 ? [table('GPU program', profile.programs)] : []),
        ].join('\n'),
      );
    });
}
