export { tf } from './tf.js';
export {
  BACKEND_NAMES,
  type BackendName,
  type BackendChoice,
  type BackendReport,
  BackendUnavailableError,
  isBackendChoice,
  parseBackendChoice,
  backendChoiceFromEnv,
  selectBackend,
  useBackend,
  probeBackends,
  activeBackend,
  wasmBinaryDir,
} from './backends.js';
export { type EnvironmentRecord, environmentRecord } from './environment.js';
export { Rng, deriveSeed } from './seed.js';
export {
  type BenchCase,
  type PreparedCase,
  type BenchRow,
  type BenchOptions,
  runBench,
  matchesFilter,
  caseBackends,
  tensorReady,
} from './bench.js';
export { kernelBenchCases } from './kernel-bench.js';
export { wasmThreadsInUse } from './wasm/threads.js';
