import { describe, expect, it } from 'vitest';
import {
  activeBackend,
  BACKEND_NAMES,
  BackendUnavailableError,
  backendChoiceFromEnv,
  environmentRecord,
  gpuDeviceNode,
  probeBackends,
  selectBackend,
  tf,
} from '../src/index.js';

describe('backend selection', () => {
  it('reports every backend once, in preference order, with a reason for each unavailable one', async () => {
    const reports = await probeBackends('auto');
    expect(reports.map((r) => r.name)).toEqual([...BACKEND_NAMES]);
    for (const report of reports) {
      if (report.available) {
        expect(report.reason).toBeNull();
        expect(report.device).toMatch(/\S/);
      } else {
        expect(report.reason).toMatch(/\S/);
        expect(report.device).toBeNull();
      }
    }
    expect(reports.find((r) => r.name === 'cpu')?.available).toBe(true);
  });

  it('auto selects the first available backend that is not a CPU-emulated GPU', async () => {
    const reports = await probeBackends('auto');
    const first = reports.find((r) => r.available && !r.emulated)!;
    expect(reports.filter((r) => r.selected).map((r) => r.name)).toEqual([first.name]);
    expect(tf.getBackend()).toBe(first.name);
    const selected = await selectBackend('auto');
    expect(selected.name).toBe(first.name);
    expect(activeBackend()).toEqual(selected);
  });

  it('marks only a GPU backend on a CPU emulation (llvmpipe, SwiftShader) as emulated', async () => {
    const reports = await probeBackends('auto');
    for (const report of reports) {
      if (report.emulated) {
        expect(report.name).toBe('webgpu');
        expect(report.device).toMatch(/CPU-emulated GPU .*auto passes it over/);
      }
      if (!report.available) expect(report.emulated).toBe(false);
    }
    expect(reports.find((r) => r.name === 'cpu')?.emulated).toBe(false);
  });

  it('a forced backend is used when available', async () => {
    const selected = await selectBackend('cpu');
    expect(selected.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(environmentRecord()).toMatchObject({
      backend: 'cpu',
      versions: { tfjs: tf.version_core, node: process.version },
    });
  });

  it('a forced backend that is unavailable fails with the reason the probe gives', async () => {
    const reports = await probeBackends('auto');
    for (const report of reports.filter((r) => !r.available && r.probed !== false)) {
      await expect(selectBackend(report.name)).rejects.toThrow(BackendUnavailableError);
      await expect(selectBackend(report.name)).rejects.toThrow(report.reason!);
    }
    const tensorflow = reports.find((r) => r.name === 'tensorflow')!;
    if (!tensorflow.available) {
      expect(tensorflow.reason).toContain('pnpm add -w @tensorflow/tfjs-node-gpu');
      expect(tensorflow.reason).toContain('CUDA 11.2');
    }
  });

  it('reads PRUNEFUSE_BACKEND and rejects unknown names with the accepted ones', () => {
    expect(backendChoiceFromEnv({})).toBe('auto');
    expect(backendChoiceFromEnv({ PRUNEFUSE_BACKEND: 'wasm' })).toBe('wasm');
    expect(() => backendChoiceFromEnv({ PRUNEFUSE_BACKEND: 'cuda' })).toThrow(
      "PRUNEFUSE_BACKEND: unknown backend 'cuda'; expected one of auto, tensorflow, webgpu, wasm, cpu",
    );
  });
});

describe('GPU device nodes', () => {
  it('finds a GPU driver by its device node, and none on a machine without one', () => {
    expect(gpuDeviceNode((file) => file === '/dev/dri')).toBe('/dev/dri');
    expect(gpuDeviceNode((file) => file === '/dev/nvidiactl' || file === '/dev/dri')).toBe(
      '/dev/nvidiactl',
    );
    expect(gpuDeviceNode(() => false)).toBeNull();
  });

  it('without one, auto neither loads Dawn nor lists webgpu as usable, and says so', async () => {
    const reports = await probeBackends('auto');
    const webgpu = reports.find((r) => r.name === 'webgpu')!;
    if (gpuDeviceNode() === null) {
      expect(webgpu).toMatchObject({ available: false, device: null, probed: false });
      expect(webgpu.reason).toContain('so Dawn was not loaded; --backend webgpu tries it anyway');
    } else {
      expect(webgpu.reason ?? '').not.toContain('Dawn was not loaded');
    }
  });
});
