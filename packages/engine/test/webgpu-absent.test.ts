import { describe, expect, it, vi } from 'vitest';

// `webgpu` (Dawn) is an optional dependency: on a platform without its prebuilt binary it
// is not installed, and every backend but webgpu must still work.
vi.mock('webgpu', () => {
  throw new Error("Cannot find package 'webgpu'");
});

describe('without the optional webgpu package', () => {
  it('reports webgpu unavailable with what to do, and selects another backend', async () => {
    const { probeBackends } = await import('../src/index.js');
    const reports = await probeBackends('auto', { probeWebgpu: true });
    const webgpu = reports.find((r) => r.name === 'webgpu')!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.reason).toMatch(
      /could not load Dawn \(npm package 'webgpu'.*optional dependency/s,
    );
    expect(reports.find((r) => r.selected)?.name).not.toBe('webgpu');
    expect(reports.find((r) => r.name === 'cpu')?.available).toBe(true);
  });
});
