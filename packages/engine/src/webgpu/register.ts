import { ADD_RELU_KERNEL_NAMES } from '../add-relu-kernels.js';
import { BATCH_NORM_KERNEL_NAMES } from '../batch-norm-kernels.js';
import { SGD_KERNEL_NAMES } from '../sgd-kernels.js';
import { tf } from '../tf.js';
import { addReluWebgpu, reluGradientWebgpu } from './add-relu.js';
import {
  inputGradientWebgpu,
  momentsWebgpu,
  movingAverageWebgpu,
  normaliseWebgpu,
  parameterGradientsWebgpu,
} from './batch-norm.js';
import { conv2dBackpropFilterWebgpu } from './conv2d-backprop-filter.js';
import type { WebgpuBackend } from './program.js';
import { sgdDescendWebgpu, sgdDirectionWebgpu } from './sgd.js';

/**
 * Registers our webgpu training kernels: a replacement for the one profiling a ResNet
 * training step on an H100 found pathological (Conv2DBackpropFilter: 95% of the step's
 * GPU time; the stock kernel stays reachable for the cases ours does not cover), and the
 * fused batch-norm, SGD and residual-ReLU kernels that cut the launches per step, the host
 * cost that remained. PRUNEFUSE_WEBGPU_KERNELS=stock keeps tfjs's own kernels and registers none of
 * ours, for side-by-side measurement.
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
  const fused: [string, (args: never) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [BATCH_NORM_KERNEL_NAMES.moments, momentsWebgpu],
    [BATCH_NORM_KERNEL_NAMES.normalise, normaliseWebgpu],
    [BATCH_NORM_KERNEL_NAMES.parameterGradients, parameterGradientsWebgpu],
    [BATCH_NORM_KERNEL_NAMES.inputGradient, inputGradientWebgpu],
    [BATCH_NORM_KERNEL_NAMES.movingAverage, movingAverageWebgpu],
    [SGD_KERNEL_NAMES.direction, sgdDirectionWebgpu],
    [SGD_KERNEL_NAMES.descend, sgdDescendWebgpu],
    [ADD_RELU_KERNEL_NAMES.forward, addReluWebgpu],
    [ADD_RELU_KERNEL_NAMES.gradient, reluGradientWebgpu],
  ];
  for (const [kernelName, kernelFunc] of fused) {
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
}
