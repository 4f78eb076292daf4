import { architecture, architectureNames, type InputShape, layerCosts } from '@prunefuse/models';
import { prunedSpec } from '@prunefuse/prunefuse';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { formatTable, printJson, printText } from '../output.js';
import { parseCount, parsePruneRatio } from './option-parsers.js';

interface FlopsOptions {
  arch: string;
  prune: number;
  input: InputShape;
  classes: number;
  json?: boolean;
}

export function registerFlops(program: Command): void {
  program
    .command('flops')
    .description(
      'Parameters and forward MACs of an architecture, per layer and in total, counted from its ' +
        'spec (optionally pruned at ratio p as PruneFuse prunes it)',
    )
    .requiredOption('--arch <name>', `one of ${architectureNames().join(', ')}`)
    .option('--prune <p>', 'channel pruning ratio in [0, 1)', parsePruneRatio, 0)
    .addOption(
      new Option('--input <HxWxC>', 'input shape')
        .argParser(parseInputShape)
        .default(parseInputShape('32x32x3'), '32x32x3'),
    )
    .option('--classes <n>', 'number of classes', parseCount, 10)
    .option(
      '--json',
      'print {arch, prune, input, classes, params, macs, dense, ratio, layers} on stdout',
    )
    .action((options: FlopsOptions) => {
      const dense = architecture(options.arch, { input: options.input, classes: options.classes });
      const layers = layerCosts(options.prune === 0 ? dense : prunedSpec(dense, options.prune));
      const { params, macs } = totals(layers);
      const denseTotals = options.prune === 0 ? { params, macs } : totals(layerCosts(dense));
      // What pruning keeps of the dense network: the figure PruneFuse's selection saves by.
      const ratio = { params: params / denseTotals.params, macs: macs / denseTotals.macs };
      const { arch, prune, input, classes } = options;
      if (options.json) {
        return printJson({
          arch,
          prune,
          input,
          classes,
          params,
          macs,
          dense: denseTotals,
          ratio,
          layers,
        });
      }
      const { height, width, channels } = input;
      const lines = [
        `${arch}, input ${height}x${width}x${channels}, ${classes} classes`,
        `  dense:        ${millions(denseTotals.params)} params, ${millions(denseTotals.macs)} MACs per example`,
      ];
      if (prune > 0) {
        lines.push(
          `  pruned p=${prune}: ${millions(params)} params, ${millions(macs)} MACs per example`,
          `  pruned/dense: ${ratio.params.toFixed(3)} of the params, ${ratio.macs.toFixed(3)} of the MACs ` +
            `(${(1 / ratio.macs).toFixed(1)}x fewer MACs)`,
        );
      }
      printText(`${lines.join('\n')}\n`);
      printText(
        formatTable(
          ['layer', 'kind', 'output', 'params', 'MACs'],
          layers.map((l) => [
            l.name,
            l.kind,
            l.outputShape.join('x'),
            String(l.params),
            String(l.macs),
          ]),
        ),
      );
    });
}

function totals(layers: readonly { params: number; macs: number }[]) {
  return {
    params: layers.reduce((sum, l) => sum + l.params, 0),
    macs: layers.reduce((sum, l) => sum + l.macs, 0),
  };
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(3)} M`;
}

function parseInputShape(value: string): InputShape {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(value.trim());
  const [height, width, channels] = (match ?? []).slice(1).map(Number);
  if (!height || !width || !channels) {
    throw new InvalidArgumentError(
      `expected HEIGHTxWIDTHxCHANNELS of positive integers, e.g. 32x32x3, got '${value}'`,
    );
  }
  return { height, width, channels };
}
