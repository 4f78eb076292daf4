import { type KernelTime, parseBackendChoice, selectBackend } from '@prunefuse/engine';
import { architecture, profileTrainingStep } from '@prunefuse/models';
import {
  type CompiledProfile,
  compiledTrainerChosen,
  profileCompiledStep,
} from '@prunefuse/webgpu-trainer';
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
        'per GPU program (webgpu timestamp queries), most expensive first. On webgpu the step ' +
        "is the compiled trainer's (PRUNEFUSE_WEBGPU_TRAINER=tfjs: tfjs ops): dispatches per " +
        'step, host encode time, and GPU time per kernel where the adapter has timestamp queries',
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
      const header = {
        backend: name,
        device,
        model: options.model,
        shape: options.shape,
        batch: options.batch,
      };
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
      if (name === 'webgpu' && compiledTrainerChosen()) {
        const compiled = await profileCompiledStep({
          spec: architecture(arch, { input, classes: 10 }),
          batch: options.batch,
          steps: options.steps,
        });
        if (options.json) return printJson({ ...header, trainer: 'compiled', ...compiled });
        return printText(compiledProfileText(compiled, { ...header, table }));
      }
      const profile = await profileTrainingStep({
        arch,
        input,
        batch: options.batch,
        steps: options.steps,
      });
      if (options.json) return printJson({ ...header, trainer: 'tfjs', ...profile });
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

/** The compiled trainer's profile: host-side counts and times, then GPU time per kernel. */
function compiledProfileText(
  profile: CompiledProfile,
  context: {
    backend: string;
    device: string;
    model: string;
    shape: string;
    batch: number;
    table: (title: string, rows: readonly KernelTime[]) => string;
  },
): string {
  const { table } = context;
  const { gpu } = profile;
  const lines = [
    `${context.model} training step, batch ${context.batch} ${context.shape}, ${context.backend} (compiled trainer): ${context.device}`,
    `${profile.dispatchesPerStep} dispatches per step over ${profile.pipelines} pipelines; host encode ` +
      `${profile.hostEncodeMs.toFixed(3)} ms per step (${profile.hostEncodeCpuMs.toFixed(3)} ms process CPU)`,
    `step ${profile.stepMs.toFixed(2)} ms (${profile.imagesPerSec.toPrecision(4)} img/s); compiled in ` +
      `${(profile.compileMs / 1000).toFixed(2)} s; ${(profile.gpuMemoryBytes / 2 ** 20).toFixed(1)} MiB of GPU memory`,
    '',
  ];
  if ('unavailable' in gpu) {
    lines.push(`GPU time per kernel: unavailable (${gpu.unavailable})`);
  } else {
    lines.push(
      `GPU time per kernel (timestamp queries, each dispatch in a pass of its own): ${gpu.totalMs.toFixed(3)} ms summed`,
      '',
      table('kernel', gpu.kernels),
      table('pipeline', gpu.pipelines),
      table('dispatch', gpu.dispatches),
    );
  }
  return lines.join('\n');
}
