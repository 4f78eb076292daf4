import { describe, expect, it } from 'vitest';
import {
  type BenchCase,
  caseBackends,
  kernelBenchCases,
  runBench,
  tf,
  useBackend,
} from '../src/index.js';

function countingCase(
  name: string,
  backends: BenchCase['backends'],
  slowBackends?: BenchCase['slowBackends'],
) {
  const prepared: string[] = [];
  const benchCase: BenchCase = {
    name,
    backends,
    ...(slowBackends ? { slowBackends } : {}),
    flops: 1e6,
    images: 4,
    prepare() {
      prepared.push(tf.getBackend());
      return { run() {}, dispose() {} };
    },
  };
  return { benchCase, prepared };
}

describe('runBench', () => {
  it('runs slow backends only when asked, and restricts to the backends given', () => {
    const { benchCase } = countingCase('x', ['wasm'], ['cpu']);
    expect(caseBackends(benchCase)).toEqual(['wasm']);
    expect(caseBackends(benchCase, { includeSlow: true })).toEqual(['wasm', 'cpu']);
    expect(caseBackends(benchCase, { includeSlow: true, backends: ['cpu'] })).toEqual(['cpu']);
  });

  it('skips unavailable backends unless they are asked for by name', async () => {
    const { benchCase, prepared } = countingCase('case/a', ['tensorflow', 'cpu']);
    const rows = await runBench([benchCase], { timeMs: 1, iterations: 2 });
    // tfjs-node is not a dependency of the workspace, so 'tensorflow' is never available here.
    expect(rows.map((r) => r.backend)).toEqual(['cpu']);
    expect(prepared).toEqual(['cpu']);
    await expect(runBench([benchCase], { backends: ['tensorflow'], timeMs: 1 })).rejects.toThrow(
      /tensorflow/,
    );
  });

  it('derives GFLOP/s and images/s from the measured rate, and filters by name', async () => {
    const a = countingCase('group/a', ['cpu']).benchCase;
    const b = countingCase('group/b', ['cpu']).benchCase;
    const rows = await runBench([a, b], { filter: '/b$/', timeMs: 1, iterations: 3 });
    expect(rows.map((r) => r.name)).toEqual(['group/b']);
    const row = rows[0]!;
    expect(row.samples).toBeGreaterThanOrEqual(3);
    expect(row.gflops).toBeCloseTo((row.opsPerSec * 1e6) / 1e9, 9);
    expect(row.imagesPerSec).toBeCloseTo(row.opsPerSec * 4, 9);
  });
});

describe('kernelBenchCases', () => {
  it('names the conv passes and matrix products, keeping the cpu filter gradient behind --slow', () => {
    const cases = kernelBenchCases();
    const reference = cases.filter((c) => c.name.endsWith('/64x32x32x16-3x3x16'));
    expect(reference.map((c) => c.name.split('/')[1])).toEqual([
      'conv2d',
      'conv2d-input-grad',
      'conv2d-filter-grad',
    ]);
    const filterGrad = reference[2]!;
    expect(caseBackends(filterGrad)).not.toContain('cpu');
    expect(caseBackends(filterGrad, { includeSlow: true })).toContain('cpu');
    // 2 * (64 * 32 * 32 * 16 outputs) * 3 * 3 * 16
    expect(filterGrad.flops).toBe(2 * 64 * 32 * 32 * 16 * 9 * 16);
    expect(cases.some((c) => c.name.startsWith('kernel/matmul/'))).toBe(true);
  });

  it('every case runs on wasm without leaking tensors', async () => {
    await useBackend('wasm');
    const tensors = tf.memory().numTensors;
    const rows = await runBench(kernelBenchCases(), {
      backends: ['wasm'],
      timeMs: 1,
      iterations: 1,
    });
    expect(rows).toHaveLength(kernelBenchCases().length);
    for (const row of rows) expect(row.gflops).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
