import type { WasmKernelArgs } from './kernel-scope.js';
import type { tf } from '../tf.js';

/**
 * tfjs-backend-wasm's own kernels that ours replace, kept so that a replacement can hand
 * the cases it does not speed up (other dtypes, other layouts) back to them.
 */
const stock = new Map<string, tf.KernelConfig>();

export function rememberStockKernel(config: tf.KernelConfig): void {
  stock.set(config.kernelName, config);
}

/** Runs the stock wasm kernel `kernelName` on the given arguments. */
export function runStockKernel(kernelName: string, args: WasmKernelArgs): tf.TensorInfo {
  const config = stock.get(kernelName);
  if (!config) throw new Error(`no stock wasm kernel '${kernelName}' was recorded`);
  return config.kernelFunc(args) as tf.TensorInfo;
}
