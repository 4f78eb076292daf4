import { spawnSync } from 'node:child_process';
import { type BackendChoice, environmentRecord, selectBackend } from '@prunefuse/engine';
import type { RunEnvironment } from './tracking.js';

/** Selects the backend (printed by the engine) and describes where runs will compute. */
export async function prepareEnvironment(choice: BackendChoice): Promise<RunEnvironment> {
  await selectBackend(choice);
  return { ...environmentRecord(), gitCommit: gitCommit() };
}

/** HEAD of the repository around `cwd`; null outside a git checkout or without git (a bundle on a GPU box). */
export function gitCommit(cwd = process.cwd()): string | null {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}
