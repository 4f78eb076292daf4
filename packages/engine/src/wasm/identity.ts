import { tf } from '../tf.js';
import { type WasmKernelArgs, wasmKernel } from './kernel-scope.js';
import { runStockKernel } from './stock-kernels.js';

/**
 * Identity as a new reference to the same memory, as the cpu backend does: tensor data is
 * never written after creation, so the stock kernel's copy of every cloned or same-dtype
 * cast tensor (hundreds per training step, in the gradient bookkeeping) buys nothing.
 */
function identity(args: WasmKernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return runStockKernel(tf.Identity, args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const identityConfig = wasmKernel(tf.Identity, identity);
