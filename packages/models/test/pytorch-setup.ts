import { spawnSync } from 'node:child_process';
import { PYTORCH_INSTALL_COMMAND } from '../src/index.js';

/** Where Debian's python3-torch puts PyTorch; the float64 reference runs with it. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

const importsTorch = () =>
  spawnSync(DEBIAN_PYTHON, ['-c', 'import numpy, torch'], { stdio: 'ignore' }).status === 0;

/**
 * Makes Debian's python3 import torch for tests that compare with the float64 reference:
 * as root with apt-get it installs python3-torch, otherwise it throws with the command
 * that does (never a silent skip).
 */
export function ensurePytorch(): void {
  if (importsTorch()) return;
  const canInstall =
    process.getuid?.() === 0 &&
    spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canInstall) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-torch'], {
      stdio: 'inherit',
      env,
    });
    if (importsTorch()) return;
  }
  throw new Error(
    `${DEBIAN_PYTHON} cannot import torch, which the float64 training-step reference needs: ` +
      `install it with \`${PYTORCH_INSTALL_COMMAND}\` (as root)`,
  );
}
