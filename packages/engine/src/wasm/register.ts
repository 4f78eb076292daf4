import { tf } from '../tf.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { fusedBatchNormConfig } from './batch-norm.js';
import { addConfig, multiplyConfig, realDivConfig, subConfig } from './broadcast-binary.js';
import { meanConfig, sumConfig } from './channel-reduction.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { identityConfig } from './identity.js';
import { rememberStockKernel } from './stock-kernels.js';
import { tileConfig } from './tile.js';

/**
 * The 'wasm' kernels training needs that tfjs-backend-wasm lacks (Conv2DBackpropFilter)
 * or runs far below XNNPACK speed; profiling a ResNet training step found each of them.
 */
const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  tileConfig,
  sumConfig,
  meanConfig,
  multiplyConfig,
  addConfig,
  subConfig,
  realDivConfig,
  fusedBatchNormConfig,
  batchMatMulConfig,
  identityConfig,
];

/**
 * Registers the training kernels for 'wasm', replacing the stock ones of the same name
 * (which stay reachable for the cases a replacement does not cover). Idempotent: a kernel
 * already registered by us is left alone.
 */
export function registerWasmTrainingKernels(): void {
  for (const kernel of WASM_TRAINING_KERNELS) {
    const current = tf.getKernel(kernel.kernelName, 'wasm');
    if (current?.kernelFunc === kernel.kernelFunc) continue;
    if (!current) {
      tf.registerKernel(kernel);
      continue;
    }
    rememberStockKernel(current);
    tf.unregisterKernel(kernel.kernelName, 'wasm');
    // The stock kernel binds its wasm function when the backend starts, through its
    // setup function; ours inherits it so that the stock path stays callable.
    tf.registerKernel({ ...kernel, setupFunc: current.setupFunc });
  }
}
