import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrayScript, reportScript, type SlurmPlan } from '../src/commands/slurm.js';

const plan: SlurmPlan = {
  experiment: 'cifar10 resnet56',
  config: '/shared/prunefuse/experiments/cifar10-resnet56.yaml',
  store: "/shared/results/it's here",
  workdir: '/shared/prunefuse',
  cli: '/usr/bin/node /shared/prunefuse/dist/prunefuse.mjs',
  tasks: 8,
  gpusPerTask: 1,
  partition: 'gpu',
  time: '04:00:00',
  baseline: '/shared/prunefuse/baselines/quick.json',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-slurm-scripts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The script as bash reads it: syntax checked, and the words of its last command line. */
function bashWords(script: string): string[] {
  const file = path.join(dir, 'job.sh');
  writeFileSync(file, script);
  expect(spawnSync('bash', ['-n', file]).status).toBe(0);
  const last = script.trim().split('\n').at(-1)!;
  const printed = spawnSync(
    'bash',
    ['-c', `PRUNEFUSE=(prunefuse); set -- ${last.replace(/^exec /, '')}; printf '%s\\n' "$@"`],
    { encoding: 'utf8' },
  );
  return printed.stdout.trim().split('\n');
}

describe('slurm job scripts', () => {
  it('the array job: one task per shard, each on its own GPU, resubmittable task by task', () => {
    const script = arrayScript(plan);
    expect(script).toContain('#SBATCH --array=0-7\n');
    expect(script).toContain('#SBATCH --gpus-per-task=1\n');
    expect(script).toContain('#SBATCH --partition=gpu\n#SBATCH --time=04:00:00\n');
    expect(script).toContain(
      `#SBATCH --output='/shared/results/it'\\''s here/slurm/logs/%x-%A_%a.out'`,
    );
    expect(script).toContain('#SBATCH --job-name=prunefuse-cifar10_resnet56\n');
    expect(bashWords(script)).toEqual([
      'prunefuse',
      'run',
      plan.config,
      '--out',
      plan.store,
      '--shard',
      'auto/8',
      '--gpu',
      'auto',
    ]);
  });

  it('asks for no GPU and passes no --gpu when the tasks need none', () => {
    const script = arrayScript({ ...plan, gpusPerTask: 0, backend: 'wasm' });
    expect(script).not.toContain('gpus-per-task');
    expect(bashWords(script).slice(-4)).toEqual(['--shard', 'auto/8', '--backend', 'wasm']);
  });

  it('the report job renders the report, requires every run done, then checks', () => {
    const script = reportScript(plan);
    expect(script).not.toContain('--array');
    expect(script).not.toContain('gpus');
    const commands = script.split('\n').filter((line) => line.startsWith('"$'));
    expect(commands.map((line) => line.split(' ')[1])).toEqual(['report', 'slurm', 'check']);
    expect(bashWords(script)).toEqual([
      'prunefuse',
      'check',
      plan.store,
      '--baseline',
      plan.baseline!,
    ]);
    expect(reportScript({ ...plan, baseline: undefined })).not.toContain(' check ');
  });
});
