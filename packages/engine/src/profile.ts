import { tf } from './tf.js';

/** Time and calls of one tfjs kernel (or one GPU program) summed over a profiled run. */
export interface KernelTime {
  name: string;
  calls: number;
  ms: number;
  /** Fraction of the summed kernel time. */
  share: number;
}

export interface KernelProfile {
  /** Kernel invocations, including the free ones (Reshape, Identity, Cast). */
  invocations: number;
  /**
   * GPU program launches (the sum of `programs`' calls), where the backend reports them;
   * on webgpu the host's cost of a step grows with them. 0 elsewhere.
   */
  dispatches: number;
  /** Sum of kernel times: GPU timestamps on webgpu, wall time per kernel elsewhere. */
  kernelMs: number;
  /** By tfjs kernel name, most expensive first. */
  kernels: KernelTime[];
  /**
   * By GPU program (shader) name, most expensive first, where the backend reports them
   * (webgpu with timestamp queries); empty elsewhere. One kernel may run several programs.
   */
  programs: KernelTime[];
}

/**
 * Runs `body` once under tfjs's profiler and sums the time of every kernel it launched.
 * Profiling serialises the backend (each kernel is timed on its own), so the sum says
 * where device time goes, not how long an unprofiled run takes.
 */
export async function profileKernels(body: () => Promise<void>): Promise<KernelProfile> {
  const info = await tf.profile(body);
  const kernels = new Map<string, { calls: number; ms: number }>();
  const programs = new Map<string, { calls: number; ms: number }>();
  const add = (table: typeof kernels, name: string, ms: number) => {
    const entry = table.get(name) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    table.set(name, entry);
  };
  for (const kernel of info.kernels) {
    add(kernels, kernel.name, Number(kernel.kernelTimeMs) || 0);
    for (const program of parsePrograms(String(kernel.extraInfo ?? ''))) {
      add(programs, program.name, program.ms);
    }
  }
  const kernelMs = [...kernels.values()].reduce((sum, k) => sum + k.ms, 0);
  const rows = (table: typeof kernels): KernelTime[] =>
    [...table]
      .map(([name, { calls, ms }]) => ({
        name,
        calls,
        ms,
        share: kernelMs > 0 ? ms / kernelMs : 0,
      }))
      .sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
  return {
    invocations: info.kernels.length,
    dispatches: [...programs.values()].reduce((sum, p) => sum + p.calls, 0),
    kernelMs,
    kernels: rows(kernels),
    programs: rows(programs),
  };
}

/** The webgpu backend's per-kernel detail: "Conv2DMMProgram: 0.12, AddProgram: 0.01". */
function parsePrograms(extraInfo: string): { name: string; ms: number }[] {
  if (!extraInfo) return [];
  return extraInfo.split(', ').flatMap((part) => {
    const match = /^(.+): ([-\d.e]+)$/.exec(part.trim());
    return match ? [{ name: match[1]!, ms: Number(match[2]) }] : [];
  });
}
