import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, useBackend } from '../src/index.js';
import { copyRowsInto, transposeInto } from '../src/wasm/data-movement.js';

function iota(shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => i),
    shape,
  );
}

describe('data movement on the wasm heap', () => {
  let backend: BackendWasm;
  beforeAll(async () => {
    await useBackend('wasm');
    backend = tf.backend() as BackendWasm;
  });

  it.each([
    [1, 4, 4],
    [3, 9, 6],
    [2, 5, 3],
    [1, 1, 7],
  ])(
    'transposes a batch of %i %ix%i matrices, ragged edges included',
    async (batch, rows, cols) => {
      const x = iota([batch, rows, cols]);
      const out = tf.zeros([batch, cols, rows]);
      transposeInto(backend, x, out, {
        batch,
        rows,
        cols,
        inBatch: rows * cols,
        inRow: cols,
        outBatch: rows * cols,
        outCol: rows,
      });
      const expected = tf.transpose(x, [0, 2, 1]);
      expect(Array.from(await out.data())).toEqual(Array.from(await expected.data()));
      tf.dispose([x, out, expected]);
    },
  );

  it.each([
    ['vectors', 8],
    ['memory.copy', 5],
    ['memory.copy, long rows', 96],
  ])('copies rows with %s (length %i)', async (_, length) => {
    // [2, 3, length] -> [3, 2, length]: rows swap their two leading indices.
    const x = iota([2, 3, length]);
    const out = tf.zeros([3, 2, length]);
    copyRowsInto(backend, x, out, {
      batch: 2,
      rows: 3,
      length,
      inBatch: 3 * length,
      inRow: length,
      outBatch: length,
      outRow: 2 * length,
    });
    const expected = tf.transpose(x, [1, 0, 2]);
    expect(Array.from(await out.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([x, out, expected]);
  });
});
