import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { PYTORCH_INSTALL_COMMAND } from '../src/index.js';

/** Where Debian's python3-torch puts PyTorch; the float64 reference runs with it. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

// Run from a neutral folder and ask for a version: started in packages/models, `import
// torch` would find this package's own torch/ folder (the PyTorch scripts) as a namespace
// package and pass without PyTorch.
const importsTorch = () =>
  spawnSync(DEBIAN_PYTHON, ['-c', 'import numpy, torch; torch.__version__'], {
    stdio: 'ignore',
    cwd: os.tmpdir(),
  }).status === 0;

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
    // Other test files may be installing their packages at this moment: wait for dpkg's
    // lock instead of failing on it.
    const lock = ['-o', 'DPkg::Lock::Timeout=900'];
    const install = ['install', '-y', '-qq', '--no-install-recommends', ...lock, 'python3-torch'];
    if (spawnSync('apt-get', install, { stdio: 'inherit', env }).status !== 0) {
      spawnSync('apt-get', ['update', '-qq', ...lock], { stdio: 'inherit', env });
      spawnSync('apt-get', install, { stdio: 'inherit', env });
    }
    if (importsTorch()) return;
  }
  throw new Error(
    `${DEBIAN_PYTHON} cannot import torch, which the float64 training-step reference needs: ` +
      `install it with \`${PYTORCH_INSTALL_COMMAND}\` (as root)`,
  );
}
