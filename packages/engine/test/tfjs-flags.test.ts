import { describe, expect, it } from 'vitest';
import { tf, useBackend } from '../src/index.js';

describe('PRUNEFUSE_TFJS_FLAGS', () => {
  it('sets each tfjs flag a loaded backend knows, typed; leaves unknown ones alone', async () => {
    const before = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
    process.env.PRUNEFUSE_TFJS_FLAGS = `CHECK_COMPUTATION_FOR_ERRORS=${!before}, CPU_HANDOFF_SIZE_THRESHOLD_NOT_A_FLAG=3,WEBGL_PACK=false`;
    try {
      await useBackend('cpu');
      expect(tf.env().get('CHECK_COMPUTATION_FOR_ERRORS')).toBe(!before);
      // Flags of packages not loaded (the WebGL backend) or of nobody stay unset.
      expect(tf.env().getFlags()).not.toHaveProperty('WEBGL_PACK');
      expect(tf.env().getFlags()).not.toHaveProperty('CPU_HANDOFF_SIZE_THRESHOLD_NOT_A_FLAG');
    } finally {
      tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', before);
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
