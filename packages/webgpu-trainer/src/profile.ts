import { type KernelTime, Rng } from '@prunefuse/engine';
import { initialWeights, type ModelSpec, networkFromWeights } from '@prunefuse/models';
import { compileTrainer, type DispatchTime, webgpuDevice } from './trainer.js';

export interface CompiledProfile {
  dispatchesPerStep: number;
  /** Compute pipelines of the step (shared by layers of one kind). */
  pipelines: number;
  /** Compiling the full-batch training plan, pipelines and validation included. */
  compileMs: number;
  gpuMemoryBytes: number;
  /**
   * Host time to encode one step (encoder, pass, every dispatch, finish; nothing
   * submitted), mean over 50 after 5 of warm-up: wall time, and the process's CPU time.
   */
  hostEncodeMs: number;
  hostEncodeCpuMs: number;
  /** Median wall time of a step, submission to completion, after one of warm-up. */
  stepMs: number;
  imagesPerSec: number;
  /** GPU time of one step from timestamp queries, or why there is none. */
  gpu: GpuStepTimes | { unavailable: string };
}

export interface GpuStepTimes {
  /** Sum of the dispatches' times (each timed in a pass of its own). */
  totalMs: number;
  /** By what a dispatch computes ('forward', 'filter-gradient', 'sgd', ...), most expensive first. */
  kernels: KernelTime[];
  /** By compute pipeline, named by the kinds of dispatch it ran, most expensive first. */
  pipelines: KernelTime[];
  /** Every dispatch, most expensive first. */
  dispatches: KernelTime[];
}

/**
 * Where a compiled training step's time goes: dispatches and host encode time (measurable
 * on any adapter), step time, and per-kernel GPU time from timestamp queries where the
 * device has the 'timestamp-query' feature, on the active webgpu backend.
 */
export async function profileCompiledStep(options: {
  spec: ModelSpec;
  batch: number;
  /** Steps timed for the median step time. */
  steps: number;
  seed?: number;
}): Promise<CompiledProfile> {
  const { spec, batch, steps, seed = 1 } = options;
  const start = performance.now();
  const trainer = await compileTrainer(spec, {
    batch,
    optimizer: { momentum: 0.9, weightDecay: 5e-4 },
  });
  const compileMs = performance.now() - start;
  try {
    const network = networkFromWeights(spec, initialWeights(spec, seed));
    await trainer.uploadWeights(network);
    network.dispose();
    trainer.measureEncode(5);
    const encode = trainer.measureEncode(50);
    const rng = new Rng(seed + 1);
    const { height, width, channels } = spec.input;
    const images = Float32Array.from({ length: batch * height * width * channels }, () =>
      rng.normal(),
    );
    const labels = Int32Array.from({ length: batch }, () => rng.int(0, spec.classes - 1));
    // A small rate: the profile trains on one batch over and over.
    const step = { images, labels, lr: 1e-3 };
    const queue = webgpuDevice().queue;
    const times: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const begin = performance.now();
      trainer.step(step);
      await queue.onSubmittedWorkDone();
      if (s > 0) times.push(performance.now() - begin);
    }
    const stepMs = median(times);
    const timed = await trainer.profileStep(step);
    await trainer.readMetrics();
    return {
      dispatchesPerStep: encode.dispatches,
      pipelines: trainer.pipelineCount,
      compileMs,
      gpuMemoryBytes: trainer.memoryBytes,
      hostEncodeMs: encode.msPerStep,
      hostEncodeCpuMs: encode.cpuMsPerStep,
      stepMs,
      imagesPerSec: (batch * 1000) / stepMs,
      gpu: timed
        ? gpuStepTimes(timed)
        : {
            unavailable:
              "this adapter does not offer WebGPU's 'timestamp-query' feature, so kernels cannot be timed on the GPU",
          },
    };
  } finally {
    trainer.dispose();
  }
}

/**
 * What a dispatch computes, its label less the layer: 'stage1.block1.conv1:filter-gradient'
 * -> 'filter-gradient', 'x:backward:parameters' -> 'backward:parameters'; the phases a
 * strided input gradient is split into count as one kind ('input-gradient:phase01' ->
 * 'input-gradient'); a compiled-in teacher's keep their prefix ('teacher forward').
 */
function kindOf(label: string): string {
  const teacher = label.startsWith('teacher ') ? 'teacher ' : '';
  const colon = label.indexOf(':');
  if (colon < 0) return label;
  return `${teacher}${label.slice(colon + 1).replace(/:phase\d+$/, '')}`;
}

function gpuStepTimes(dispatches: readonly DispatchTime[]): GpuStepTimes {
  const totalMs = dispatches.reduce((sum, d) => sum + d.ms, 0);
  const kindsByPipeline = new Map<number, Set<string>>();
  for (const d of dispatches) {
    const kinds = kindsByPipeline.get(d.pipeline) ?? new Set<string>();
    kinds.add(kindOf(d.label));
    kindsByPipeline.set(d.pipeline, kinds);
  }
  const grouped = (key: (d: DispatchTime) => string): KernelTime[] => {
    const groups = new Map<string, { calls: number; ms: number }>();
    for (const d of dispatches) {
      const name = key(d);
      const group = groups.get(name) ?? { calls: 0, ms: 0 };
      group.calls += 1;
      group.ms += d.ms;
      groups.set(name, group);
    }
    return [...groups]
      .map(([name, { calls, ms }]) => ({
        name,
        calls,
        ms,
        share: totalMs > 0 ? ms / totalMs : 0,
      }))
      .sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
  };
  return {
    totalMs,
    kernels: grouped((d) => kindOf(d.label)),
    pipelines: grouped(
      (d) => `pipeline ${d.pipeline} (${[...kindsByPipeline.get(d.pipeline)!].join(', ')})`,
    ),
    dispatches: grouped((d) => d.label),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
