import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { parseShard, runsInShard, shardOfRun } from '../src/shard.js';
import { describeTestDataset } from './fixtures/datasets.js';

const GRID = `
dataset: { name: mnist, trainSubset: 2000 }
arch: resnet8-digits
methods:
  - name: prunefuse
    prune: [0.5, 0.7]
  - name: svp
    proxyArch: resnet8-digits
  - random
acquisition: [least-confidence, entropy]
budget: { initial: 100, milestones: ['10%', '20%'], roundSize: 100 }
seeds: [1, 2, 3]
`;

const runs = expandSweep(parseExperiment('experiments/grid.yaml', GRID), describeTestDataset).runs;

describe('--shard partition', () => {
  it('puts every run of a sweep in exactly one shard, shards differing by at most one run', () => {
    // More runs than shards; most counts from 2 to 8 leave shards of unequal size.
    expect(runs.length).toBe(21);
    for (let count = 1; count <= 8; count++) {
      const shards = Array.from({ length: count }, (_, index) =>
        runsInShard(runs, { index, count }),
      );
      const covered = shards.flat().map((run) => run.id);
      expect(covered.sort()).toEqual(runs.map((run) => run.id).sort());
      const sizes = shards.map((shard) => shard.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const [index, shard] of shards.entries()) {
        const ids = runs.map((r) => r.id);
        for (const run of shard) expect(shardOfRun(run.id, ids, count)).toBe(index);
      }
    }
  });

  it('depends only on the set of ids, not on the order the config lists them in', () => {
    const reversed = [...runs].reverse();
    for (let count = 1; count <= 8; count++) {
      for (let index = 0; index < count; index++) {
        const ids = (list: typeof runs) =>
          runsInShard(list, { index, count })
            .map((run) => run.id)
            .sort();
        expect(ids(reversed)).toEqual(ids(runs));
      }
    }
  });

  it('keeps the order of the runs within a shard', () => {
    const shard = runsInShard(runs, { index: 1, count: 3 });
    const positions = shard.map((run) => runs.indexOf(run));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});

describe('--shard values', () => {
  it('parses i/n and rejects an index outside the count', () => {
    expect(parseShard('2/5', {})).toEqual({ index: 2, count: 5 });
    expect(() => parseShard('5/5', {})).toThrow('shard index 5 is not below the count 5');
    expect(() => parseShard('0/0', {})).toThrow('at least 1');
    expect(() => parseShard('two', {})).toThrow("'two' is not 'i/n'");
  });

  it('auto: a Slurm array task by its place in the array (--array=1-8, stepped arrays)', () => {
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(parseShard('auto', env)).toEqual({ index: 3, count: 4 });
    expect(
      parseShard('auto', {
        SLURM_ARRAY_TASK_ID: '8',
        SLURM_ARRAY_TASK_COUNT: '8',
        SLURM_ARRAY_TASK_MIN: '1',
      }),
    ).toEqual({ index: 7, count: 8 });
    expect(
      parseShard('auto', {
        SLURM_ARRAY_TASK_ID: '6',
        SLURM_ARRAY_TASK_COUNT: '4',
        SLURM_ARRAY_TASK_MIN: '0',
        SLURM_ARRAY_TASK_STEP: '2',
      }),
    ).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('auto', { SLURM_ARRAY_TASK_ID: '1' })).toThrow(
      'not SLURM_ARRAY_TASK_COUNT',
    );
  });

  it('auto/n: the task id is the shard, also for one task resubmitted on its own', () => {
    // sbatch --array=2 array.sh: an array of one task, whose id still names shard 2.
    const resubmitted = {
      SLURM_ARRAY_TASK_ID: '2',
      SLURM_ARRAY_TASK_COUNT: '1',
      SLURM_ARRAY_TASK_MIN: '2',
    };
    expect(parseShard('auto/4', resubmitted)).toEqual({ index: 2, count: 4 });
    expect(parseShard('auto', resubmitted)).toEqual({ index: 0, count: 1 });
    expect(() => parseShard('auto/2', resubmitted)).toThrow(
      'shard index 2 is not below the count 2',
    );
  });

  it('reads a Kubernetes Indexed Job given its completion count', () => {
    expect(parseShard('auto/8', { JOB_COMPLETION_INDEX: '5' })).toEqual({ index: 5, count: 8 });
    expect(() => parseShard('auto', { JOB_COMPLETION_INDEX: '5' })).toThrow(
      '--shard auto/<completions>',
    );
    expect(() => parseShard('auto', {})).toThrow('pass --shard i/n');
  });
});
