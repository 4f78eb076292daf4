import { type BenchCase, Rng } from '@prunefuse/engine';
import { kCenterGreedy } from './k-center-greedy.js';

/**
 * Greedy k-centres at the size the issue sets (a CIFAR-sized pool of 64-d penultimate
 * features, one 10% labelling round), with 1,000 labelled centres as in SVP's first round.
 */
function kCenterCase(pool: number, labelled: number, dim: number, k: number): BenchCase {
  return {
    name: `selection/k-center-greedy/${pool}x${dim}/labelled-${labelled}/k-${k}`,
    backends: ['wasm', 'webgpu', 'tensorflow'],
    prepare() {
      const rng = new Rng(1);
      const gaussian = (rows: number) =>
        Float32Array.from({ length: rows * dim }, () => rng.normal());
      const poolEmbeddings = gaussian(pool);
      const labelledEmbeddings = gaussian(labelled);
      return {
        async run() {
          await kCenterGreedy(poolEmbeddings, labelledEmbeddings, dim, k);
        },
        dispose() {},
      };
    },
  };
}

/** Selection benchmarks for the CLI's `bench` command. */
export function selectionBenchCases(): BenchCase[] {
  return [kCenterCase(50_000, 1_000, 64, 5_000)];
}
