import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

describe('Dawn stays quiet unless webgpu is asked for', () => {
  it('backends loads Dawn only with --verbose (or where a GPU device exists)', () => {
    const plain = runCli(['backends']);
    expect(plain.status).toBe(0);
    const webgpuRow = plain.stdout.split('\n').find((line) => line.startsWith('webgpu '))!;
    if (webgpuRow.includes('Dawn was not loaded')) {
      // Dawn's native warnings ("Couldn't load Vulkan", reduced limits) go straight to stderr.
      expect(plain.stderr).not.toMatch(/Warning:|Vulkan/);
      const verbose = runCli(['backends', '--verbose']);
      expect(verbose.status).toBe(0);
      expect(verbose.stdout).not.toContain('Dawn was not loaded');
    }
    // Every line fits a 100-column terminal; --verbose prints reasons whole.
    for (const line of plain.stdout.trimEnd().split('\n')) {
      expect([...line].length, line).toBeLessThanOrEqual(100);
    }
  });
});
