import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';

/** What the engine passes to a kernel function on the wasm backend. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}

/** A kernel config for the 'wasm' backend. */
export function wasmKernel(
  kernelName: string,
  kernelFunc: (args: WasmKernelArgs) => tf.TensorInfo,
): tf.KernelConfig {
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/**
 * The working set of one composite wasm kernel: it calls the backend's own kernels
 * (XNNPACK convolution, transpose, ...) directly, below the engine, so that nothing is
 * recorded on the gradient tape, and frees every intermediate it made when it ends.
 * The engine counts data ids around each kernel, so an intermediate left behind would
 * show up as a leak.
 */
export class KernelScope {
  private readonly owned = new Set<tf.TensorInfo>();

  constructor(readonly backend: BackendWasm) {}

  /** Runs the wasm kernel `kernelName`; its output belongs to this scope until kept. */
  run(
    kernelName: string,
    inputs: tf.NamedTensorInfoMap,
    attrs: tf.NamedAttrMap = {},
  ): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm kernel '${kernelName}' is not registered`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel '${kernelName}' returned several outputs`);
    this.owned.add(out);
    return out;
  }

  /** Allocates an uninitialised float32 tensor on the wasm heap, owned by this scope. */
  allocate(shape: number[]): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.add(out);
    return out;
  }

  /** Uploads values into a new tensor owned by this scope. */
  upload(shape: number[], values: Float32Array): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32', undefined, values);
    this.owned.add(out);
    return out;
  }

  /** A view of a float32 tensor's memory; valid until the next allocation (the heap may grow). */
  view(info: tf.TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(info) as Float32Array;
  }

  /** Hands `info` to the caller: it outlives the scope. */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    this.owned.delete(info);
    return info;
  }

  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.clear();
  }
}

/** Runs `body` in a fresh scope and returns what it keeps; the rest is freed, even on error. */
export function withKernelScope(
  backend: BackendWasm,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
