import { Bench } from 'tinybench';
import { type BackendName, BackendUnavailableError, useBackend } from './backends.js';
import { tf } from './tf.js';

/**
 * One benchmark case. Cases live beside the code they measure (kernels here, the batch
 * pipeline in data, pruning in prunefuse, ...); the CLI's `bench` command gathers them.
 */
export interface BenchCase {
  /** Unique, slash-separated, e.g. 'kernel/conv2d-filter-grad/64x32x32x16'. */
  name: string;
  /** Backends it runs on by default when available. */
  backends: readonly BackendName[];
  /**
   * Backends on which one iteration takes seconds (the JavaScript cpu backend training a
   * convnet): run only when slow cases are asked for.
   */
  slowBackends?: readonly BackendName[];
  /** Floating-point operations of one iteration (2 per multiply-add), for GFLOP/s. */
  flops?: number;
  /** Images processed by one iteration, for images/s. */
  images?: number;
  /** Bytes one iteration must move at the least, for GB/s (memory-bound kernels). */
  bytes?: number;
  /**
   * Times the measured operation runs in one iteration (a fast kernel repeated in one
   * submission): one operation takes meanMs / repeats, what a reference timing of the same
   * operation (PyTorch's) is compared with. Default 1.
   */
  repeats?: number;
  /**
   * Allocates inputs on the active backend and returns the timed body, which must
   * finish its work before resolving (read back a value on asynchronous backends).
   */
  prepare(): Promise<PreparedCase> | PreparedCase;
}

export interface PreparedCase {
  run(): Promise<void> | void;
  dispose(): void;
}

export interface BenchRow {
  name: string;
  backend: BackendName;
  /** Iterations per second (mean). */
  opsPerSec: number;
  meanMs: number;
  /** Relative margin of error of the mean latency, in percent. */
  rmePercent: number;
  gflops: number | null;
  imagesPerSec: number | null;
  gbPerSec: number | null;
  /** The case's repeats: one operation takes meanMs / repeats. */
  repeats: number;
  samples: number;
}

export interface BenchOptions {
  /** Substring or /regex/ matched against case names. */
  filter?: string;
  /**
   * Restrict to these backends; each must be available. Without it every available
   * backend a case names is used and the others are skipped.
   */
  backends?: readonly BackendName[];
  /** Also run each case on its slowBackends. */
  includeSlow?: boolean;
  /** Minimum time per case in ms, and minimum iterations. */
  timeMs?: number;
  iterations?: number;
  onRow?: (row: BenchRow) => void;
}

/**
 * Resolves once `tensor` has been computed. Asynchronous backends (webgpu) only queue
 * work, so a timed body reads back one element; on synchronous ones this costs a
 * one-element slice.
 */
export async function tensorReady(tensor: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => tf.slice(tf.reshape(tensor, [-1]), 0, 1));
  await probe.data();
  probe.dispose();
}

export function matchesFilter(name: string, filter: string | undefined): boolean {
  if (!filter) return true;
  const regex = /^\/(.*)\/([a-z]*)$/.exec(filter);
  return regex ? new RegExp(regex[1]!, regex[2]).test(name) : name.includes(filter);
}

/** The backends a case runs on under `options`, in the order it lists them. */
export function caseBackends(benchCase: BenchCase, options: BenchOptions = {}): BackendName[] {
  const listed = [
    ...benchCase.backends,
    ...(options.includeSlow ? (benchCase.slowBackends ?? []) : []),
  ];
  return [...new Set(listed)].filter((b) => !options.backends || options.backends.includes(b));
}

/** Runs each case on each of its backends in turn; rows come out in case order. */
export async function runBench(
  cases: readonly BenchCase[],
  options: BenchOptions = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const available = new Map<BackendName, boolean>();
  const usable = async (backend: BackendName): Promise<boolean> => {
    let ok = available.get(backend);
    if (ok === undefined) {
      try {
        await useBackend(backend);
        ok = true;
      } catch (error) {
        // A backend the user asked for by name must work; others are skipped quietly.
        if (!(error instanceof BackendUnavailableError) || options.backends?.includes(backend))
          throw error;
        ok = false;
      }
      available.set(backend, ok);
    }
    return ok;
  };
  for (const benchCase of cases) {
    if (!matchesFilter(benchCase.name, options.filter)) continue;
    for (const backend of caseBackends(benchCase, options)) {
      if (!(await usable(backend))) continue;
      await useBackend(backend);
      const prepared = await benchCase.prepare();
      try {
        const bench = new Bench({
          name: benchCase.name,
          time: options.timeMs ?? 1000,
          iterations: options.iterations ?? 3,
          warmupIterations: 1,
          warmupTime: 0,
          throws: true,
        });
        bench.add(benchCase.name, () => prepared.run());
        await bench.run();
        const result = bench.tasks[0]!.result;
        if (result.state !== 'completed')
          throw new Error(`bench ${benchCase.name}: ${result.state}`);
        const opsPerSec = 1000 / result.latency.mean;
        const row: BenchRow = {
          name: benchCase.name,
          backend,
          opsPerSec,
          meanMs: result.latency.mean,
          rmePercent: result.latency.rme,
          gflops: benchCase.flops === undefined ? null : (benchCase.flops * opsPerSec) / 1e9,
          imagesPerSec: benchCase.images === undefined ? null : benchCase.images * opsPerSec,
          gbPerSec: benchCase.bytes === undefined ? null : (benchCase.bytes * opsPerSec) / 1e9,
          repeats: benchCase.repeats ?? 1,
          samples: result.latency.samplesCount,
        };
        rows.push(row);
        options.onRow?.(row);
      } finally {
        prepared.dispose();
      }
    }
  }
  return rows;
}
