import { describe, expect, it } from 'vitest';
import { tf, useBackend } from '../src/index.js';

describe('PRUNEFUSE_TFJS_FLAGS', () => {
  it('sets each tfjs flag a loaded backend knows, typed; leaves unknown ones alone', async () => {
    process.env.PRUNEFUSE_TFJS_FLAGS =
      'KEEP_INTERMEDIATE_TENSORS=true, CPU_HANDOFF_SIZE_THRESHOLD_NOT_A_FLAG=3,WEBGL_PACK=false';
    try {
      expect(tf.env().getBool('KEEP_INTERMEDIATE_TENSORS')).toBe(false);
      await useBackend('cpu');
      expect(tf.env().getBool('KEEP_INTERMEDIATE_TENSORS')).toBe(true);
    } finally {
      tf.env().set('KEEP_INTERMEDIATE_TENSORS', false);
      delete process.env.PRUNEFUSE_TFJS_FLAGS;
    }
  });

  it('rejects an entry that is not NAME=value, naming it', async () => {
    process.env.PRUNEFUSE_TFJS_FLAGS = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';
    try {
      await expect(useBackend('wasm')).rejects.toThrow(
        "PRUNEFUSE_TFJS_FLAGS: 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE' is not NAME=value",
      );
    } finally {
      delete process.env.PRUNEFUSE_TFJS_FLAGS;
    }
  });
});
