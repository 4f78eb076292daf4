import { Command } from 'commander';
import { registerBackends } from './commands/backends.js';

/** The `prunefuse` command line; each command lives in its own module under commands/. */
export function buildCli(): Command {
  const program = new Command('prunefuse')
    .description(
      'PruneFuse harness: prune at init, select data with the pruned network, fuse, distil; ' +
        'baselines, sweeps, reports and regression checks',
    )
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerBackends(program);
  return program;
}
