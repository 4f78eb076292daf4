import { tf } from '../tf.js';
import { conv2dBackpropFilterWebgpu } from './conv2d-backprop-filter.js';
import type { WebgpuBackend } from './program.js';

/**
 * Replaces the webgpu kernels that profiling a ResNet training step on an H100 found
 * pathological (Conv2DBackpropFilter: 95% of the step's GPU time). The stock kernel
 * stays reachable for the cases a replacement does not cover. PRUNEFUSE_WEBGPU_KERNELS=stock
 * keeps tfjs's own, for side-by-side measurement.
 */
export function registerWebgpuTrainingKernels(env: NodeJS.ProcessEnv = process.env): void {
  if (env.PRUNEFUSE_WEBGPU_KERNELS === 'stock') return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
  if (!stock || stock.kernelFunc.name === 'conv2dBackpropFilterOnWebgpu') return;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'webgpu',
    kernelFunc: function conv2dBackpropFilterOnWebgpu(args) {
      return conv2dBackpropFilterWebgpu(
        args as unknown as Parameters<typeof conv2dBackpropFilterWebgpu>[0] & {
          backend: WebgpuBackend;
        },
        stock.kernelFunc,
      );
    },
  });
}
