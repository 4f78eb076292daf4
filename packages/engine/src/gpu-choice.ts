/**
 * Which GPU a process computes on (`--gpu N|auto`, PRUNEFUSE_GPU), so that the tasks of
 * an array job on a node with 8 GPUs put one run on each.
 *
 * `auto` takes the GPU the scheduler assigned: the first index of SLURM_STEP_GPUS (an
 * srun step), SLURM_JOB_GPUS (a batch script), CUDA_VISIBLE_DEVICES or
 * GPU_DEVICE_ORDINAL, whichever is set first in that order. Without any of them `auto`
 * is the default adapter.
 */

/** A GPU index, or `auto` for the one the scheduler assigned. */
export type GpuChoice = number | 'auto';

/** The GPU a process was asked for, and by what. */
export interface GpuRequest {
  /** The GPU's index among the node's GPUs. */
  index: number;
  /** Where it came from: `--gpu`, PRUNEFUSE_GPU or the scheduler's variable. */
  source: string;
  /** Every GPU the scheduler assigned to this task (just `index` for an explicit one). */
  assigned: number[];
}

export const GPU_VARIABLES = [
  'SLURM_STEP_GPUS',
  'SLURM_JOB_GPUS',
  'CUDA_VISIBLE_DEVICES',
  'GPU_DEVICE_ORDINAL',
] as const;

export function parseGpuChoice(value: string, source: string): GpuChoice {
  if (value === 'auto') return 'auto';
  if (/^\d+$/.test(value.trim())) return Number(value);
  throw new Error(
    `${source}: '${value}' is not a GPU index (0, 1, ...) or 'auto' (${GPU_VARIABLES.join(', ')})`,
  );
}

/** What `choice` names here: null for `auto` when no scheduler variable names a GPU. */
export function resolveGpuChoice(
  choice: GpuChoice,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): GpuRequest | null {
  if (choice !== 'auto') return { index: choice, source, assigned: [choice] };
  for (const name of GPU_VARIABLES) {
    const value = env[name]?.trim();
    // Slurm sets CUDA_VISIBLE_DEVICES=NoDevFiles in jobs that were given no GPU.
    if (!value || value === 'NoDevFiles') continue;
    const assigned = value.split(',').map((item) => item.trim());
    if (!assigned.every((item) => /^\d+$/.test(item))) {
      throw new Error(
        `--gpu auto: ${name}='${value}' names GPUs by UUID or MIG instance; WebGPU adapters ` +
          'carry no such name, so pass the index: --gpu N',
      );
    }
    const indices = assigned.map(Number);
    return { index: indices[0]!, source: name, assigned: indices };
  }
  return null;
}

/** A WebGPU adapter as Dawn lists it. */
export interface GpuAdapter {
  backend: string;
  name: string;
}

/** CPU emulations of a GPU: never what a GPU index means while a real GPU is present. */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

/**
 * The adapter that stands for GPU `request` among `adapters` (Dawn's order), with its
 * position in that list; throws, listing the adapters, when there is none.
 *
 * GPU indices count hardware adapters (software ones count only where there is nothing
 * else). When a task sees no more adapters than it was assigned GPUs, the scheduler has
 * hidden the others (Slurm's ConstrainDevices, a container given one device): its i-th
 * assigned GPU is then its i-th visible adapter. Otherwise every GPU of the node is
 * visible and the index counts them in Dawn's order (on NVIDIA's Vulkan driver, PCI bus
 * order, the order of /dev/nvidiaN and of Slurm's GPU indices).
 */
export function adapterForGpu(
  request: GpuRequest,
  adapters: readonly GpuAdapter[],
): { position: number; adapter: GpuAdapter } {
  const hardware = adapters.filter((a) => !SOFTWARE_ADAPTER.test(a.name));
  const pool = hardware.length > 0 ? hardware : adapters;
  const isolated = request.source !== '--gpu' && request.source !== 'PRUNEFUSE_GPU';
  const wanted =
    isolated && pool.length <= request.assigned.length
      ? request.assigned.indexOf(request.index)
      : request.index;
  const adapter = pool[wanted];
  if (!adapter) {
    throw new Error(
      `GPU ${request.index} (${request.source}) is not among the ${pool.length} WebGPU ` +
        `adapter(s) Dawn lists here: ${describeAdapters(adapters)}`,
    );
  }
  return { position: adapters.indexOf(adapter), adapter };
}

export function describeAdapters(adapters: readonly GpuAdapter[]): string {
  if (adapters.length === 0) return 'none';
  return adapters.map((a, i) => `${i}: ${a.name} (${a.backend})`).join('; ');
}
