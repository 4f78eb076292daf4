/**
 * Splitting a sweep between n processes started anywhere (a Slurm array, a Kubernetes
 * Indexed Job, shells on several machines) so that together they cover every run exactly
 * once, with no coordination but the shared store.
 *
 * The rule: the runs' ids are sorted and dealt round-robin, run k of the sorted list to
 * shard k mod n. It depends only on the set of run ids, so every process that expands the
 * same config (and --filter) computes the same partition, whatever the order of the YAML;
 * and the shards differ in size by at most one run, so an 8-task array over 60 runs keeps
 * all 8 GPUs busy (a hash of the id mod n would leave shards of 4 and 11 as often as not).
 */

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Which of `count` shards the run `id` of the sweep with run ids `ids` belongs to. */
export function shardOfRun(id: string, ids: readonly string[], count: number): number {
  const position = sortedUnique(ids).indexOf(id);
  if (position < 0) throw new Error(`run '${id}' is not one of the sweep's runs`);
  return position % count;
}

/** The runs of `runs` that fall in `shard`, in their original order. */
export function runsInShard<T extends { id: string }>(runs: readonly T[], shard: Shard): T[] {
  const sorted = sortedUnique(runs.map((run) => run.id));
  const mine = new Set(sorted.filter((_, position) => position % shard.count === shard.index));
  return runs.filter((run) => mine.has(run.id));
}

function sortedUnique(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

export const SHARD_SYNTAX =
  "'i/n' (0 <= i < n), 'auto' (a Slurm array task: its place in the array of " +
  "SLURM_ARRAY_TASK_COUNT tasks) or 'auto/n' (shard SLURM_ARRAY_TASK_ID or " +
  'JOB_COMPLETION_INDEX of n)';

/**
 * Parses --shard: `i/n`, `auto` or `auto/n`.
 * - `auto`: a Slurm array task's place in its array, (id - min) / step of
 *   SLURM_ARRAY_TASK_COUNT, so any regular --array range works.
 * - `auto/n`: the task id itself is the shard of n: SLURM_ARRAY_TASK_ID, or
 *   JOB_COMPLETION_INDEX in a Kubernetes Indexed Job (which does not export its
 *   completion count). A single task of an --array=0-(n-1) job resubmitted on its own
 *   (`sbatch --array=k`) thus still runs shard k, which `auto` would read as 0 of 1.
 * Throws with what was expected.
 */
export function parseShard(value: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const explicit = /^(\d+)\/(\d+)$/.exec(value);
  if (explicit) return checked(Number(explicit[1]), Number(explicit[2]), `--shard ${value}`);
  const auto = /^auto(?:\/(\d+))?$/.exec(value);
  if (!auto) throw new Error(`--shard: '${value}' is not ${SHARD_SYNTAX}`);
  if (auto[1] === undefined) {
    const slurm = slurmArrayShard(env);
    if (slurm) return slurm;
    if (present(env.JOB_COMPLETION_INDEX)) {
      throw new Error(
        '--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the ' +
          "job's completion count; pass it: --shard auto/<completions>",
      );
    }
  } else {
    const count = Number(auto[1]);
    for (const name of ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'] as const) {
      const id = env[name];
      if (present(id)) return checked(integer(id, name), count, `--shard ${value}: ${name}`);
    }
  }
  throw new Error(
    `--shard ${value}: neither SLURM_ARRAY_TASK_ID (a Slurm array task) nor ` +
      'JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; pass --shard i/n',
  );
}

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/**
 * The shard of a Slurm array task. Task ids need not start at 0 (--array=1-8) and may
 * step (--array=0-14:2): the index is (id - min) / step. Arrays given as lists
 * (--array=1,4,9) have no step and cannot be mapped onto 0..n-1.
 */
function slurmArrayShard(env: NodeJS.ProcessEnv): Shard | null {
  const id = env.SLURM_ARRAY_TASK_ID;
  if (!present(id)) return null;
  const count = env.SLURM_ARRAY_TASK_COUNT;
  if (!present(count)) {
    throw new Error(
      '--shard auto: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT (Slurm 18.08 ' +
        'or later sets both); pass --shard i/n',
    );
  }
  const min = integer(env.SLURM_ARRAY_TASK_MIN ?? '0', 'SLURM_ARRAY_TASK_MIN');
  const step = integer(env.SLURM_ARRAY_TASK_STEP ?? '1', 'SLURM_ARRAY_TASK_STEP');
  const offset = integer(id, 'SLURM_ARRAY_TASK_ID') - min;
  if (step < 1 || offset % step !== 0) {
    throw new Error(
      `--shard auto: array task ${id} (min ${min}, step ${step}) is not on a regular range; ` +
        'submit the array as --array=0-<n-1>',
    );
  }
  return checked(offset / step, integer(count, 'SLURM_ARRAY_TASK_COUNT'), 'SLURM_ARRAY_TASK_ID');
}

function checked(index: number, count: number, source: string): Shard {
  if (count < 1) throw new Error(`${source}: the shard count must be at least 1, got ${count}`);
  if (index >= count) {
    throw new Error(`${source}: shard index ${index} is not below the count ${count}`);
  }
  return { index, count };
}

function integer(value: string, name: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new Error(`${name}='${value}' is not a non-negative integer`);
  }
  return n;
}
