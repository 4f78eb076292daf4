import { beforeAll, describe, expect, it } from 'vitest';
import { runPytorchKernelReference } from '../src/index.js';
import { DEBIAN_PYTHON, ensurePytorch } from './pytorch-setup.js';

describe('the PyTorch twin of the kernel bench cases', () => {
  beforeAll(ensurePytorch, 900_000);

  it('times every conv pass and batch-norm direction it is named, one row each', async () => {
    const cases = [
      'kernel/conv/forward/cifar/2x8x8x5-3x3x6',
      'kernel/conv/input-grad/cifar/2x8x8x5-3x3x6-s2',
      'kernel/conv/filter-grad/tiny-imagenet/2x8x8x3-7x7x4-s2',
      'kernel/batchnorm/forward/cifar/2x4x4x5',
      'kernel/batchnorm/backward/cifar/2x4x4x5',
    ].map((name) => ({ name, repeats: 2 }));
    const reference = await runPytorchKernelReference(cases, {
      python: DEBIAN_PYTHON,
      seconds: 0.01,
    });
    expect(reference.device).toMatch(/PyTorch/);
    expect(reference.rows.map((r) => r.name)).toEqual(cases.map((c) => c.name));
    for (const row of reference.rows) {
      expect(row.meanMs).toBeGreaterThan(0);
      expect(row.samples).toBeGreaterThanOrEqual(3);
    }
  });

  it('a name it cannot parse is an error naming the expected form', async () => {
    await expect(
      runPytorchKernelReference([{ name: 'kernel/conv/sideways/cifar/1x1', repeats: 1 }], {
        python: DEBIAN_PYTHON,
      }),
    ).rejects.toThrow(/exited with code/);
  });
});
