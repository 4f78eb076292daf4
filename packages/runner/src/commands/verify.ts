import {
  BACKEND_NAMES,
  type BackendName,
  parseBackendChoice,
  selectBackend,
} from '@prunefuse/engine';
import {
  architecture,
  compareTrainingStep,
  compareWithFloat64,
  PYTORCH_INSTALL_COMMAND,
  type StepAgreement,
} from '@prunefuse/models';
import { prunedSpec } from '@prunefuse/prunefuse';
import {
  type CompiledStepAgreement,
  compareCompiledStep,
  compiledTrainerChosen,
  type WeightAgreement,
} from '@prunefuse/webgpu-trainer';
import { type Command, InvalidArgumentError } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { backendOption } from './backends.js';
import { parseCount, parsePositive, parsePruneRatio, parseUnitInterval } from './option-parsers.js';
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
  prune?: number;
  kd?: boolean;
  kdLambda: number;
  kdTemperature: number;
  json?: boolean;
}

/** Classes of the verify workloads (the model bench shapes' ten). */
const CLASSES = 10;
/** The compiled step's optimiser: the experiments' (momentum 0.9, weight decay 5e-4). */
const COMPILED_STEP = { seed: 1, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 } as const;

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description(
      'Check a backend numerically: one training step from the same weights and batch on it ' +
        'and on a reference must give the same loss and weight updates (exit 1 if not). The ' +
        "default reference is the step in float64 (PyTorch), with every ReLU taking the backend's " +
        'own decision, so that activations within rounding of zero do not count as errors. On ' +
        'webgpu the step runs on the compiled trainer (PRUNEFUSE_WEBGPU_TRAINER=tfjs: tfjs ops), ' +
        "and every layer's gradient is compared too",
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
    .option(
      '--prune <p>',
      "compiled trainer: the architecture pruned at ratio p (PruneFuse's widths: round(c(1-p)) channels a group)",
      parsePruneRatio,
    )
    .option(
      '--kd',
      'compiled trainer: a knowledge-distillation step, the dense architecture (own seed) as the ' +
        'teacher compiled into the step (needs --reference cpu or another backend)',
    )
    .option('--kd-lambda <x>', 'with --kd: weight of the hard-label loss', parseUnitInterval, 0.5)
    .option('--kd-temperature <t>', 'with --kd: temperature', parsePositive, 4)
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
      if (backend === 'webgpu' && compiledTrainerChosen()) {
        return verifyCompiledStep({ options, arch, input, reference });
      }
      for (const [flag, given] of [
        ['--prune', options.prune !== undefined],
        ['--kd', options.kd === true],
      ] as const) {
        if (given) {
          throw new InvalidArgumentError(
            `${flag} checks the compiled trainer, which runs on --backend webgpu ` +
              `(not ${backend}, and not with PRUNEFUSE_WEBGPU_TRAINER=tfjs)`,
          );
        }
      }
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

/**
 * One step of the compiled trainer (webgpu) against the reference: loss, every update and
 * every trainable gradient, each within the tolerance. The workload's width (--prune) and
 * loss (--kd) are the compiled trainer's alone.
 */
async function verifyCompiledStep({
  options,
  arch,
  input,
  reference,
}: {
  options: VerifyOptions;
  arch: string;
  input: ReturnType<typeof trainingWorkload>['input'];
  reference: BackendName | 'float64';
}): Promise<void> {
  const dense = architecture(arch, { input, classes: CLASSES });
  const spec = options.prune === undefined ? dense : prunedSpec(dense, options.prune);
  const kd = options.kd ? { lambda: options.kdLambda, temperature: options.kdTemperature } : null;
  const agreement = await compareCompiledStep({
    ...COMPILED_STEP,
    spec,
    batch: options.batch,
    reference,
    python: options.python,
    ...(kd
      ? {
          loss: { kind: 'distillation', ...kd },
          teacher: { spec: dense, seed: COMPILED_STEP.seed + 100 },
        }
      : {}),
  });
  const worst = (rows: readonly WeightAgreement[]) => rows[0]?.relativeError ?? 0;
  const pass =
    agreement.loss.relativeError <= options.tolerance &&
    worst(agreement.updates) <= options.tolerance &&
    worst(agreement.gradients) <= options.tolerance;
  const workload = [
    options.model,
    ...(options.prune === undefined ? [] : [`pruned at p = ${options.prune}`]),
    ...(kd ? [`distilled from ${options.model} (lambda ${kd.lambda}, T ${kd.temperature})`] : []),
  ].join(', ');
  if (options.json) {
    printJson({
      trainer: 'compiled',
      backend: 'webgpu',
      model: options.model,
      shape: options.shape,
      ...(options.prune === undefined ? {} : { prune: options.prune }),
      ...(kd ? { kd } : {}),
      batch: options.batch,
      tolerance: options.tolerance,
      ...agreement,
      pass,
    });
  } else {
    printText(
      [
        `${workload}, batch ${options.batch} ${options.shape}: compiled webgpu trainer against ${reference}, tolerance ${options.tolerance}`,
        `loss ${agreement.loss.compiled} vs ${agreement.loss.reference} (relative error ${agreement.loss.relativeError.toExponential(2)})`,
        agreementTable('variable update', agreement.updates),
        agreementTable('gradient', agreement.gradients),
        pass ? 'PASS' : 'FAIL',
      ].join('\n'),
    );
  }
  if (!pass) process.exitCode = 1;
}

/** The five worst-matching weights of a comparison. */
function agreementTable(what: string, rows: CompiledStepAgreement['updates']): string {
  return formatTable(
    [what, 'relative error'],
    rows.slice(0, 5).map((r) => [r.name, r.relativeError.toExponential(2)]),
  );
}
