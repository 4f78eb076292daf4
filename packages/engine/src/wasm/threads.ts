import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';

/** XNNPACK in tfjs-backend-wasm's threaded build uses at most this many threads. */
const MAX_THREADS = 8;

/**
 * How many threads the wasm backend should use: PRUNEFUSE_WASM_THREADS if set (1 turns
 * threading off), else one per core up to the build's maximum.
 */
export function wasmThreadsWanted(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.PRUNEFUSE_WASM_THREADS;
  if (value === undefined || value === '') return Math.min(os.availableParallelism(), MAX_THREADS);
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new Error(
      `PRUNEFUSE_WASM_THREADS: expected an integer from 1 to ${MAX_THREADS}, got '${value}'`,
    );
  }
  return threads;
}

/** Threads the running wasm backend computes with; null before it has started. */
export function wasmThreadsInUse(): number | null {
  try {
    return getThreadsCount();
  } catch {
    // tfjs throws until the backend is initialised
    return null;
  }
}

/**
 * Makes the next start of the wasm backend use its threaded-SIMD build with `threads`
 * threads, or the single-threaded one when `threads` is 1 or Node cannot run it. Returns
 * the thread count that will be used. Must run before the backend is first initialised.
 *
 * tfjs turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there) because
 * Emscripten's pthread workers start from blob: URLs, which Node's worker_threads refuse.
 * Here the flag is forced on and each worker is redirected to pthread-worker.cjs, started
 * from its file path. The build also caps its threads at half the logical cores (it
 * assumes hyper-threading), so the core count its glue reports is raised to match.
 */
export function configureWasmThreads(threads: number): number {
  const workerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pthread-worker.cjs');
  const glue = threadedGlue();
  const usable = threads > 1 && glue !== null && existsSync(workerFile);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', usable);
  if (!usable) return 1;
  setThreadsCount(threads);
  redirectPthreadWorkers(workerFile, glue);
  reportLogicalCores(2 * threads);
  return threads;
}

const THREADED_GLUE = 'tfjs-backend-wasm-threaded-simd.js';

/** The threaded build's Emscripten glue: beside this module in a bundle, else installed. */
function threadedGlue(): string | null {
  const bundled = path.join(path.dirname(fileURLToPath(import.meta.url)), THREADED_GLUE);
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve(
      `@tensorflow/tfjs-backend-wasm/wasm-out/${THREADED_GLUE}`,
    );
  } catch {
    return null;
  }
}

type WorkerClass = new (file: string | URL, options?: { workerData?: unknown }) => { ref(): void };

/**
 * The glue assigns worker_threads' Worker to globalThis.Worker and starts each pthread
 * with `new Worker(<blob: URL>)`; an accessor on globalThis.Worker hands it a subclass that
 * starts pthread-worker.cjs instead. The glue also ref()s the worker of every running
 * pthread, and XNNPACK's pool threads run until the process ends, so they would keep
 * Node alive after the program is done: the subclass's ref() does nothing. Nothing is
 * lost when they stop with the process, since the main thread waits for every parallel
 * job it starts.
 */
function redirectPthreadWorkers(workerFile: string, gluePath: string): void {
  let redirected: WorkerClass | undefined;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => redirected,
    set(NodeWorker: WorkerClass) {
      redirected = class extends NodeWorker {
        constructor(file: string | URL, options?: { workerData?: unknown }) {
          if (String(file).startsWith('blob:')) {
            super(workerFile, { ...options, workerData: { tfjsThreadedGlue: gluePath } });
          } else {
            super(file, options);
          }
        }

        override ref(): void {}
      };
    },
  });
}

interface Instantiable {
  instantiate(bytes: unknown, imports?: { env?: Record<string, unknown> }): Promise<unknown>;
}

/**
 * The glue passes the core count to wasm as the import emscripten_num_logical_cores, read
 * once when the module starts; the next instantiation that imports it gets `cores`.
 */
function reportLogicalCores(cores: number): void {
  const wasm = (globalThis as unknown as { WebAssembly: Instantiable }).WebAssembly;
  const instantiate = wasm.instantiate.bind(wasm);
  wasm.instantiate = (bytes, imports) => {
    if (imports?.env && 'emscripten_num_logical_cores' in imports.env) {
      imports.env.emscripten_num_logical_cores = () => cores;
      wasm.instantiate = instantiate;
    }
    return instantiate(bytes, imports);
  };
}
