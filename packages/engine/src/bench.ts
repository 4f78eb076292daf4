import { Bench } from 'tinybench';
import { type BackendName, useBackend } from './backends.js';

/**
 * One benchmark case. Cases live beside the code they measure (kernels here, the batch
 * pipeline in data, pruning in prunefuse, ...); the CLI's `bench` command gathers them.
 */
export interface BenchCase {
  /** Unique, slash-separated, e.g. 'kernel/conv2d-filter-grad/64x32x32x16'. */
  name: string;
  /** Backends it runs on by default when available. */
  backends: readonly BackendName[];
  /** Floating-point operations of one iteration (2 per multiply-add), for GFLOP/s. */
  flops?: number;
  /** Images processed by one iteration, for images/s. */
  images?: number;
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
  samples: number;
}

export interface BenchOptions {
  /** Substring or /regex/ matched against case names. */
  filter?: string;
  /** Restrict to these backends (each must be available). */
  backends?: readonly BackendName[];
  /** Minimum time per case in ms, and minimum iterations. */
  timeMs?: number;
  iterations?: number;
  onRow?: (row: BenchRow) => void;
}

export function matchesFilter(name: string, filter: string | undefined): boolean {
  if (!filter) return true;
  const regex = /^\/(.*)\/([a-z]*)$/.exec(filter);
  return regex ? new RegExp(regex[1]!, regex[2]).test(name) : name.includes(filter);
}

/** Runs each case on each of its backends in turn; rows come out in case order. */
export async function runBench(
  cases: readonly BenchCase[],
  options: BenchOptions = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const benchCase of cases) {
    if (!matchesFilter(benchCase.name, options.filter)) continue;
    const backends = benchCase.backends.filter(
      (b) => !options.backends || options.backends.includes(b),
    );
    for (const backend of backends) {
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
        if (result.state !== 'completed') throw new Error(`bench ${benchCase.name}: ${result.state}`);
        const opsPerSec = 1000 / result.latency.mean;
        const row: BenchRow = {
          name: benchCase.name,
          backend,
          opsPerSec,
          meanMs: result.latency.mean,
          rmePercent: result.latency.rme,
          gflops: benchCase.flops === undefined ? null : (benchCase.flops * opsPerSec) / 1e9,
          imagesPerSec: benchCase.images === undefined ? null : benchCase.images * opsPerSec,
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
