import os from 'node:os';
import { activeBackend, type BackendName, type GpuRecord } from './backends.js';
import { tf } from './tf.js';

/** Where and with what a result was computed; every result carries one. */
export interface EnvironmentRecord {
  backend: BackendName;
  device: string;
  /** The GPU asked for (--gpu, PRUNEFUSE_GPU) and the adapter that ran it; absent otherwise. */
  gpu?: GpuRecord;
  versions: { tfjs: string; node: string; os: string };
  cpu: { model: string; cores: number };
  memoryGiB: number;
}

export function environmentRecord(): EnvironmentRecord {
  const active = activeBackend();
  if (!active) throw new Error('no backend selected yet: call selectBackend() first');
  const cpus = os.cpus();
  return {
    backend: active.name,
    device: active.device,
    ...(active.gpu ? { gpu: active.gpu } : {}),
    versions: {
      tfjs: tf.version_core,
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
    },
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length },
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}
