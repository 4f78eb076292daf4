import { describe, expect, it } from 'vitest';
import { adapterForGpu, parseGpuChoice, resolveGpuChoice } from '../src/gpu-choice.js';

const H200 = { backend: 'vulkan', name: 'NVIDIA H200' };
const LLVMPIPE = { backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
const eightGpus = Array.from({ length: 8 }, (_, i) => ({ backend: 'vulkan', name: `GPU ${i}` }));

describe('--gpu', () => {
  it('takes an index or auto, and says what else it would take', () => {
    expect(parseGpuChoice('3', '--gpu')).toBe(3);
    expect(parseGpuChoice('auto', '--gpu')).toBe('auto');
    expect(() => parseGpuChoice('first', 'PRUNEFUSE_GPU')).toThrow(
      "PRUNEFUSE_GPU: 'first' is not a GPU index",
    );
  });

  it('auto reads the scheduler: the step, then the job, then CUDA and ROCm variables', () => {
    const env = {
      SLURM_STEP_GPUS: '5',
      SLURM_JOB_GPUS: '4,5',
      CUDA_VISIBLE_DEVICES: '0',
      GPU_DEVICE_ORDINAL: '0',
    };
    expect(resolveGpuChoice('auto', '--gpu', env)).toEqual({
      index: 5,
      source: 'SLURM_STEP_GPUS',
      assigned: [5],
    });
    expect(resolveGpuChoice('auto', '--gpu', { ...env, SLURM_STEP_GPUS: '' })).toEqual({
      index: 4,
      source: 'SLURM_JOB_GPUS',
      assigned: [4, 5],
    });
    expect(resolveGpuChoice('auto', '--gpu', { GPU_DEVICE_ORDINAL: '2' })?.source).toBe(
      'GPU_DEVICE_ORDINAL',
    );
    // Slurm's value in a job that was given no GPU, and no variable at all: the default.
    expect(resolveGpuChoice('auto', '--gpu', { CUDA_VISIBLE_DEVICES: 'NoDevFiles' })).toBeNull();
    expect(resolveGpuChoice('auto', '--gpu', {})).toBeNull();
    expect(() =>
      resolveGpuChoice('auto', '--gpu', { CUDA_VISIBLE_DEVICES: 'GPU-8a1b2c3d-aaaa' }),
    ).toThrow('names GPUs by UUID or MIG instance');
    expect(resolveGpuChoice(2, '--gpu', env)).toEqual({ index: 2, source: '--gpu', assigned: [2] });
  });
});

describe('the adapter of a GPU', () => {
  it('counts the node’s GPUs in Dawn’s order when the task sees them all', () => {
    const request = { index: 6, source: 'SLURM_STEP_GPUS', assigned: [6] };
    expect(adapterForGpu(request, eightGpus)).toEqual({ position: 6, adapter: eightGpus[6] });
  });

  it('takes the assigned GPU’s place among the visible ones when the others are hidden', () => {
    // ConstrainDevices: task given GPUs 4 and 5 sees two adapters; GPU 5 is its second.
    const two = eightGpus.slice(0, 2);
    expect(adapterForGpu({ index: 5, source: 'SLURM_JOB_GPUS', assigned: [4, 5] }, two)).toEqual({
      position: 1,
      adapter: two[1],
    });
    expect(
      adapterForGpu({ index: 3, source: 'CUDA_VISIBLE_DEVICES', assigned: [3] }, [H200]).adapter,
    ).toBe(H200);
  });

  it('passes over a software rasteriser while there is a real GPU, else counts it', () => {
    const request = { index: 0, source: '--gpu', assigned: [0] };
    expect(adapterForGpu(request, [LLVMPIPE, H200])).toEqual({ position: 1, adapter: H200 });
    expect(adapterForGpu(request, [LLVMPIPE])).toEqual({ position: 0, adapter: LLVMPIPE });
  });

  it('refuses an index no adapter has, listing the adapters', () => {
    expect(() => adapterForGpu({ index: 1, source: '--gpu', assigned: [1] }, [LLVMPIPE])).toThrow(
      'GPU 1 (--gpu) is not among the 1 WebGPU adapter(s) Dawn lists here: 0: llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)',
    );
  });
});
