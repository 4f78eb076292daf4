export { type AddReluKernels, addReluKernels } from './add-relu-kernels.js';
export {
  activeBackend,
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
  type BackendReport,
  BackendUnavailableError,
  backendChoiceFromEnv,
  type GpuRecord,
  isBackendChoice,
  parseBackendChoice,
  probeBackends,
  selectBackend,
  useBackend,
  useGpu,
  wasmBinaryDir,
} from './backends.js';
export { type BatchNormKernels, batchNormKernels } from './batch-norm-kernels.js';
export {
  type BenchCase,
  type BenchOptions,
  type BenchRow,
  caseBackends,
  matchesFilter,
  type PreparedCase,
  runBench,
  tensorReady,
} from './bench.js';
export { type EnvironmentRecord, environmentRecord } from './environment.js';
export {
  GPU_VARIABLES,
  type GpuAdapter,
  type GpuChoice,
  parseGpuChoice,
  resolveGpuChoice,
} from './gpu-choice.js';
export { kernelBenchCases } from './kernel-bench.js';
export { type KernelProfile, type KernelTime, profileKernels } from './profile.js';
export { relativeError } from './relative-error.js';
export { sumsRowsByMatMul } from './row-reduction.js';
export { deriveSeed, Rng } from './seed.js';
export { type SgdKernels, sgdKernels } from './sgd-kernels.js';
export { tf } from './tf.js';
export { gpuDeviceNode } from './vulkan-drivers.js';
export { wasmThreadsInUse } from './wasm/threads.js';
