import { type BenchCase, Rng, tf } from '@prunefuse/engine';
import { epochBatches } from './batch.js';
import type { BatchGeometry, Split } from './dataset.js';

const BATCH_SIZE = 128;
/** Enough images for several batches, so gathers jump around memory as in a real epoch. */
const POOL_IMAGES = 2048;

function syntheticSplit(geometry: BatchGeometry, rng: Rng): Split {
  const { height, width, channels } = geometry.shape;
  const images = new Uint8Array(POOL_IMAGES * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(0, 255);
  const labels = Int32Array.from({ length: POOL_IMAGES }, () => rng.int(0, 9));
  return { images, labels, size: POOL_IMAGES };
}

function pipelineCase(label: string, geometry: BatchGeometry): BenchCase {
  const { height, width, channels } = geometry.shape;
  return {
    name: `data/batch-pipeline/${label}/${BATCH_SIZE}x${height}x${width}x${channels}/${geometry.augmentation}`,
    backends: ['cpu', 'wasm', 'webgpu', 'tensorflow'],
    images: BATCH_SIZE,
    prepare() {
      const rng = new Rng(1);
      const split = syntheticSplit(geometry, rng);
      const indices = rng.permutation(POOL_IMAGES);
      let batches = epochBatches(split, indices, {
        batchSize: BATCH_SIZE,
        rng,
        augment: true,
        dataset: geometry,
      });
      return {
        // One batch per iteration; reading back its sum makes asynchronous backends finish
        // the upload, at the cost of one small reduction.
        async run() {
          let next = batches.next();
          if (next.done) {
            batches = epochBatches(split, indices, {
              batchSize: BATCH_SIZE,
              rng,
              augment: true,
              dataset: geometry,
            });
            next = batches.next();
          }
          const batch = next.value!;
          const total = tf.sum(batch.x);
          await total.data();
          tf.dispose([total, batch.x, batch.y]);
        },
        dispose() {},
      };
    },
  };
}

/** Batches/s of the epoch pipeline (gather, augment, normalise, upload) at CIFAR and MNIST shapes. */
export function dataBenchCases(): BenchCase[] {
  return [
    pipelineCase('cifar', {
      shape: { height: 32, width: 32, channels: 3 },
      mean: [0.49, 0.48, 0.45],
      std: [0.25, 0.24, 0.26],
      augmentation: 'crop-flip',
    }),
    pipelineCase('mnist', {
      shape: { height: 28, width: 28, channels: 1 },
      mean: [0.13],
      std: [0.31],
      augmentation: 'none',
    }),
  ];
}
