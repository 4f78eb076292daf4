import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A Debian package a test needs, and a file it installs (present: installed). */
export interface DebianPackage {
  name: string;
  provides: string;
}

/** How ensureDebianPackages reaches the system; tests of it pass their own. */
export interface PackageSystem {
  /** Root with apt-get: packages can be installed here. */
  canInstall: () => boolean;
  run: (command: string, args: readonly string[]) => { status: number | null; stderr: string };
  exists: (file: string) => boolean;
}

/** This machine. */
export const HOST: PackageSystem = {
  canInstall: () =>
    process.getuid?.() === 0 &&
    spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0,
  run: (command, args) => {
    const result = spawnSync(command, args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return { status: result.status, stderr: result.stderr ?? String(result.error ?? '') };
  },
  exists: existsSync,
};

// Wait for dpkg's lock rather than fail when two test files install at once.
const APT_OPTIONS = ['-qq', '-o', 'DPkg::Lock::Timeout=600'];

/**
 * Makes sure the Debian packages a test file needs are there, so that the README's test
 * command passes on a fresh machine and a missing package never skips a test silently:
 * - installed already: nothing to do (the usual case; this costs a stat per package);
 * - root with apt-get: installs the missing ones quietly, running `apt-get update` first
 *   only when the install fails (fresh containers have no package lists);
 * - otherwise: throws, naming the one command that installs them.
 */
export function ensureDebianPackages(
  packages: readonly DebianPackage[],
  system: PackageSystem = HOST,
): void {
  const missing = packages.filter((p) => !system.exists(p.provides));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name);
  const command = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
  if (!system.canInstall()) {
    throw new Error(
      `these tests need Debian's ${names.join(', ')} (${missing.map((p) => p.provides).join(', ')} ` +
        `not found); install with: sudo sh -c '${command}'`,
    );
  }
  const install = ['install', '-y', '--no-install-recommends', ...APT_OPTIONS, ...names];
  let result = system.run('apt-get', install);
  if (result.status !== 0) {
    system.run('apt-get', ['update', ...APT_OPTIONS]);
    result = system.run('apt-get', install);
  }
  const still = missing.filter((p) => !system.exists(p.provides));
  if (still.length > 0) {
    const why = result.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(
      `apt-get could not install ${still.map((p) => p.name).join(', ')}${why ? ` (${why})` : ''}; ` +
        `run: ${command}`,
    );
  }
}

/** Debian's headless-capable Chromium, for the report's browser test. */
export const CHROMIUM: DebianPackage = { name: 'chromium', provides: '/usr/bin/chromium' };

/** The official Fashion-MNIST files, for the data package's real-file tests. */
export const FASHION_MNIST: DebianPackage = {
  name: 'dataset-fashion-mnist',
  provides: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
};

/** Slurm's controller, node daemon and commands, for the Slurm tests. */
export const SLURM: DebianPackage = { name: 'slurm-wlm', provides: '/usr/sbin/slurmctld' };

/** munge, the authentication Slurm's daemons use. */
export const MUNGE: DebianPackage = { name: 'munge', provides: '/usr/sbin/munged' };
