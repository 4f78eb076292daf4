import type { BenchCase } from '@prunefuse/engine';
import {
  architecture,
  initialWeights,
  type ModelBenchWorkload,
  modelBenchWorkloads,
  modelCaseHeader,
  networkFromWeights,
} from '@prunefuse/models';
import { seededBatch } from './step-check.js';
import { compileTrainer, webgpuDevice } from './trainer.js';

const CLASSES = 10;

/**
 * The model bench workloads (same names, so PyTorch's rows sit beside them) measured on
 * the compiled trainer, on webgpu only: a training step replayed and waited for, and the
 * inference plan over a batch with its outputs read back.
 */
export function compiledModelBenchCases(options: { batch?: number } = {}): BenchCase[] {
  return modelBenchWorkloads(options).map(compiledCase);
}

function compiledCase(workload: ModelBenchWorkload): BenchCase {
  const { arch, input, batch, mode } = workload;
  return {
    ...modelCaseHeader(workload),
    backends: ['webgpu'],
    slowBackends: [],
    async prepare() {
      const spec = architecture(arch, { input, classes: CLASSES });
      const network = networkFromWeights(spec, initialWeights(spec, 1));
      const trainer = await compileTrainer(spec, {
        batch,
        optimizer: { momentum: 0.9, weightDecay: 5e-4 },
      });
      await trainer.uploadWeights(network);
      network.dispose();
      const data = seededBatch(spec, batch, 2);
      // A small rate: the case trains on one batch over and over.
      const step = { images: data.images, labels: data.labels, lr: 1e-3 };
      const queue = webgpuDevice().queue;
      return {
        run:
          mode === 'train'
            ? async () => {
                trainer.step(step);
                await queue.onSubmittedWorkDone();
              }
            : async () => {
                await trainer.predict(data.images);
              },
        dispose: () => trainer.dispose(),
      };
    },
  };
}
