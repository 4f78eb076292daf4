import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Whether git tracks `file` in the repository around it (false outside a checkout or
 * without git). A generated file a user committed, like a sample report, must not be
 * replaced by a command that merely defaults to writing there.
 */
export function isTrackedByGit(file: string): boolean {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) return false;
  const result = spawnSync('git', ['ls-files', '--error-unmatch', path.basename(file)], {
    cwd: dir,
    stdio: 'ignore',
  });
  return result.status === 0;
}
