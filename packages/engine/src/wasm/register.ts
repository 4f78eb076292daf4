import { tf } from '../tf.js';

/**
 * Registers, for the 'wasm' backend, the training kernels it lacks or runs slowly.
 * Idempotent: a kernel already registered by us is left alone.
 */
export function registerWasmTrainingKernels(): void {
  for (const kernel of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(kernel.kernelName, 'wasm') === undefined) tf.registerKernel(kernel);
  }
}

const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [];
