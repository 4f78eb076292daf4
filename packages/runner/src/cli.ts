import { Command } from 'commander';
import { registerBackends } from './commands/backends.js';
import { registerBaseline } from './commands/baseline.js';
import { registerBench } from './commands/bench.js';
import { registerCheck } from './commands/check.js';
import { registerData } from './commands/data.js';
import { registerFlops } from './commands/flops.js';
import { registerMlflow } from './commands/mlflow.js';
import { registerProfile } from './commands/profile.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSlurm } from './commands/slurm.js';
import { registerVerify } from './commands/verify.js';
import { printText } from './output.js';
import { versionText } from './version.js';

/** The `prunefuse` command line; each command lives in its own module under commands/. */
export function buildCli(): Command {
  const program = new Command('prunefuse')
    .description(
      'PruneFuse harness: prune at init, select data with the pruned network, fuse, distil; ' +
        'baselines, sweeps, reports and regression checks',
    )
    .option('-V, --version', 'print the version, git commit and tfjs version')
    .on('option:version', () => {
      printText(versionText());
      process.exit(0);
    })
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  registerBackends(program);
  registerBench(program);
  registerProfile(program);
  registerVerify(program);
  registerReport(program);
  registerCheck(program);
  registerBaseline(program);
  registerData(program);
  registerFlops(program);
  registerRun(program);
  registerSlurm(program);
  registerMlflow(program);
  return program;
}
