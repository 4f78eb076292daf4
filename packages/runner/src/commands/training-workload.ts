import { architectureNames, BENCH_INPUT_SHAPES, type InputShape } from '@prunefuse/models';
import { type Command, InvalidArgumentError } from 'commander';

const SHAPE_NAMES = Object.keys(BENCH_INPUT_SHAPES);

/** The --model and --shape options of the commands that run one training step. */
export function addWorkloadOptions(command: Command): Command {
  return command
    .option('--model <arch>', `architecture (${architectureNames().join(', ')})`, 'resnet20')
    .option('--shape <name>', `input shape (${SHAPE_NAMES.join(', ')})`, 'cifar');
}

/** The architecture and input shape those options name, or an error listing the choices. */
export function trainingWorkload(options: { model: string; shape: string }): {
  arch: string;
  input: InputShape;
} {
  if (!architectureNames().includes(options.model)) {
    throw new InvalidArgumentError(
      `--model: unknown architecture '${options.model}'; expected one of ${architectureNames().join(', ')}`,
    );
  }
  const input = (BENCH_INPUT_SHAPES as Readonly<Record<string, InputShape>>)[options.shape];
  if (!input) {
    throw new InvalidArgumentError(
      `--shape: unknown shape '${options.shape}'; expected one of ${SHAPE_NAMES.join(', ')}`,
    );
  }
  return { arch: options.model, input };
}
