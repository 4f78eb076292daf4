import { BACKEND_NAMES, parseBackendChoice, selectBackend } from '@prunefuse/engine';
import {
  compareTrainingStep,
  compareWithFloat64,
  PYTORCH_INSTALL_COMMAND,
  type StepAgreement,
} from '@prunefuse/models';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';
import { parseCount, parsePositive } from './option-parsers.js';
import { addWorkloadOptions, trainingWorkload } from './training-workload.js';

/** Where Debian's python3-torch installs PyTorch (a pyenv `python3` on PATH may lack it). */
const DEBIAN_PYTHON = '/usr/bin/python3';

interface VerifyOptions {
  backend: string;
  reference: string;
  python: string;
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
        'and on a reference must give the same loss and weight updates (exit 1 if not). The ' +
        "default reference is the step in float64 (PyTorch), with every ReLU taking the backend's " +
        'own decision, so that activations within rounding of zero do not count as errors',
    )
    .addOption(backendOption())
    .option(
      '--reference <name>',
      `float64, or a backend to compare against in float32 (${BACKEND_NAMES.join(', ')}; ` +
        'ReLU decisions within rounding of zero may then differ and fail the check)',
      'float64',
    )
    .option(
      '--python <path>',
      `the Python interpreter with PyTorch for the float64 reference (${PYTORCH_INSTALL_COMMAND} installs it for ${DEBIAN_PYTHON})`,
      DEBIAN_PYTHON,
    );
  addWorkloadOptions(command)
    .option('--batch <n>', 'batch size', parseCount, 8)
    .option(
      '--tolerance <r>',
      'largest relative error allowed for the loss and for any variable update (against ' +
        'float64, float32 rounding alone gives 0.6-2e-4 for ResNet-20/56 at batch 4-32, ' +
        '5e-4 for PreAct-ResNet-164 at batch 2 of 16x16; a kernel off by 0.5% gives 5e-3)',
      parsePositive,
      1e-3,
    )
    .option('--json', 'print the comparison as one JSON document on stdout')
    .action(async (options: VerifyOptions) => {
      const { arch, input } = trainingWorkload(options);
      const reference =
        options.reference === 'float64'
          ? 'float64'
          : parseBackendChoice(options.reference, '--reference');
      if (reference === 'auto') {
        throw new InvalidArgumentError('--reference: float64 or the name of a backend');
      }
      const { name: backend } = await selectBackend(
        parseBackendChoice(options.backend, '--backend'),
      );
      const workload = { arch, input, batch: options.batch, backend };
      const agreement =
        reference === 'float64'
          ? await compareWithFloat64({ ...workload, python: options.python })
          : await compareTrainingStep({ ...workload, reference });
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
            ...reluLines(agreement),
            pass ? 'PASS' : 'FAIL',
          ].join('\n'),
        );
      }
      if (!pass) process.exitCode = 1;
    });
}

/** What the float64 reference did about ReLU decisions it would have taken otherwise. */
function reluLines(agreement: StepAgreement): string[] {
  if (!agreement.relu) return [];
  const { activations, float64Disagrees } = agreement.relu;
  const count = float64Disagrees.reduce((sum, d) => sum + d.count, 0);
  return [
    `ReLU decisions: ${count} of ${activations} activations lie on the other side of zero in float64; the reference follows ${agreement.backend}'s`,
    ...float64Disagrees.map(
      (d) =>
        `  ${d.layer}: ${d.count}, |pre-activation| up to ${d.largest.toExponential(1)} (layer's largest ${d.scale.toPrecision(3)})`,
    ),
  ];
}
