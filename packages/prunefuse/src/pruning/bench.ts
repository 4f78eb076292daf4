import type { BenchCase } from '@prunefuse/engine';
import { architecture, buildNetwork } from '@prunefuse/models';
import { fuseInto } from '../fusion/fuse-into.js';
import { magnitudeCriterion } from './criteria.js';
import { pruneAtInit } from './prune-at-init.js';

const ARCHS = ['resnet56', 'preact-resnet164'] as const;
const OPTIONS = { input: { height: 32, width: 32, channels: 3 }, classes: 10 };
const P = 0.5;

/** Pruning θ at init (magnitude scores, index selection, building θp) at p = 0.5. */
function pruneCase(arch: string): BenchCase {
  return {
    name: `prunefuse/prune/${arch}/p${P}`,
    backends: ['wasm', 'cpu'],
    prepare() {
      const dense = buildNetwork(architecture(arch, OPTIONS), 1);
      return {
        async run() {
          (await pruneAtInit(dense, P, magnitudeCriterion)).network.dispose();
        },
        dispose() {
          dense.dispose();
        },
      };
    },
  };
}

/** Fusing a pruned network back into θ (fill 'init') at p = 0.5. */
function fuseCase(arch: string): BenchCase {
  return {
    name: `prunefuse/fuse/${arch}/p${P}`,
    backends: ['wasm', 'cpu'],
    async prepare() {
      const dense = buildNetwork(architecture(arch, OPTIONS), 1);
      const pruned = await pruneAtInit(dense, P, magnitudeCriterion);
      return {
        async run() {
          (await fuseInto(dense, pruned.network, pruned.map, { fill: 'init' })).dispose();
        },
        dispose() {
          pruned.network.dispose();
          dense.dispose();
        },
      };
    },
  };
}

/** Time to prune and to fuse ResNet-56 and pre-activation ResNet-164 (CIFAR shapes). */
export function pruneFuseBenchCases(): BenchCase[] {
  return ARCHS.flatMap((arch) => [pruneCase(arch), fuseCase(arch)]);
}
