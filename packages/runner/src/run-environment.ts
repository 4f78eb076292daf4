import { spawnSync } from 'node:child_process';
import { type BackendChoice, environmentRecord, selectBackend } from '@prunefuse/engine';
import type { RunEnvironment } from '@prunefuse/tracking';

/** Selects the backend (printed by the engine) and describes where runs will compute. */
export async function prepareEnvironment(choice: BackendChoice): Promise<RunEnvironment> {
  await selectBackend(choice);
  return { ...environmentRecord(), gitCommit: gitCommit() };
}

/**
 * HEAD of the repository around `cwd`, with '-dirty' appended when tracked files differ
 * from it (the code that ran is then not exactly that commit); null outside a git
 * checkout or without git (a bundle on a GPU box).
 */
export function gitCommit(cwd = process.cwd()): string | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const changes = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd,
    encoding: 'utf8',
  });
  const dirty = changes.status === 0 && changes.stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '-dirty' : ''}`;
}
