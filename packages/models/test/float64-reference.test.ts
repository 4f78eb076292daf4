import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, useBackend } from '@prunefuse/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { activationShapes, architecture, compareWithFloat64, weightSpecs } from '../src/index.js';
import { DEBIAN_PYTHON, ensurePytorch } from './pytorch-setup.js';

const CIFAR = { height: 32, width: 32, channels: 3 };
/** The tolerance `prunefuse verify` applies by default. */
const TOLERANCE = 1e-3;

/**
 * Runs `during` with wasm's filter-gradient kernel scaling its result by `scale` for
 * inputs of at most `maxSize` pixels a side: a kernel wrong only at small spatial sizes,
 * the failure item 10 of issue 16 suspected.
 */
async function withBrokenFilterGradient<T>(
  { scale, maxSize }: { scale: number; maxSize: number },
  during: () => Promise<T>,
): Promise<T> {
  await useBackend('wasm');
  const stock = tf.getKernel('Conv2DBackpropFilter', 'wasm')!;
  tf.unregisterKernel(stock.kernelName, 'wasm');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const output = stock.kernelFunc(args) as tf.TensorInfo;
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.shape[1]! <= maxSize) {
        // The result in place, on the wasm heap.
        const heap = args.backend as unknown as {
          typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
        };
        const values = heap.typedArrayFromHeap(output);
        for (let i = 0; i < values.length; i++) values[i]! *= scale;
      }
      return output;
    },
  });
  try {
    return await during();
  } finally {
    tf.unregisterKernel(stock.kernelName, 'wasm');
    tf.registerKernel(stock);
  }
}

describe('the float64 training-step reference (PyTorch)', () => {
  beforeAll(ensurePytorch, 900_000);

  it('a ResNet-20 step on wasm, batch 8 at CIFAR shape, agrees with it within the tolerance', async () => {
    await useBackend('wasm');
    const tensors = tf.memory().numTensors;
    const agreement = await compareWithFloat64({
      arch: 'resnet20',
      input: CIFAR,
      batch: 8,
      backend: 'wasm',
      python: DEBIAN_PYTHON,
    });
    expect(tf.memory().numTensors).toBe(tensors);
    const spec = architecture('resnet20', { input: CIFAR, classes: 10 });
    expect(agreement.reference).toBe('float64');
    expect(agreement.updates).toHaveLength(weightSpecs(spec).length);
    expect(agreement.loss.relativeError).toBeLessThan(1e-6);
    const worst = agreement.updates[0]!;
    expect(worst.relativeError, `worst-matching weight: ${worst.name}`).toBeLessThan(TOLERANCE);
    // Every ReLU output of the step had its decision fixed to wasm's.
    const shapes = activationShapes(spec);
    const reluActivations = spec.layers
      .filter((l) => l.kind === 'relu')
      .reduce((sum, l) => sum + 8 * shapes.get(l.name)!.reduce((a, b) => a * b, 1), 0);
    expect(agreement.relu!.activations).toBe(reluActivations);
    for (const d of agreement.relu!.float64Disagrees) {
      // Decisions float64 takes otherwise lie within float32 rounding of zero.
      expect(d.largest / d.scale, d.layer).toBeLessThan(1e-4);
    }
  });

  it('a filter-gradient kernel off by 0.5% on small inputs fails it, on exactly the kernels it computed', async () => {
    const input = { height: 16, width: 16, channels: 3 };
    const agreement = await withBrokenFilterGradient({ scale: 1.005, maxSize: 4 }, () =>
      compareWithFloat64({
        arch: 'resnet20',
        input,
        batch: 4,
        backend: 'wasm',
        python: DEBIAN_PYTHON,
      }),
    );
    const spec = architecture('resnet20', { input, classes: 10 });
    const shapes = activationShapes(spec);
    const smallInputConvs = spec.layers
      .filter((l) => l.kind === 'conv')
      .filter((l) => shapes.get(l.input)![0]! <= 4)
      .map((l) => `${l.name}/kernel`);
    expect(smallInputConvs.length).toBeGreaterThan(0);
    const failing = agreement.updates.filter((u) => u.relativeError > TOLERANCE);
    expect(failing.map((u) => u.name).sort()).toEqual(smallInputConvs.sort());
    for (const u of failing) expect(u.relativeError).toBeCloseTo(0.005, 3);
  });
});

describe('without PyTorch', () => {
  it('the float64 reference says which interpreter lacks torch and the command that installs it', async () => {
    // Debian's python3 without its site directories: the interpreter starts, torch does not import.
    const python = path.join(mkdtempSync(path.join(os.tmpdir(), 'no-torch-')), 'python3');
    writeFileSync(python, `#!/bin/sh\nexec ${DEBIAN_PYTHON} -S "$@"\n`);
    chmodSync(python, 0o755);
    await expect(
      compareWithFloat64({ arch: 'resnet8', input: CIFAR, batch: 2, backend: 'wasm', python }),
    ).rejects.toThrow(
      `'${python}' cannot import torch (see above); install it with \`apt-get install python3-torch\``,
    );
  });
});
