import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  gpuDeviceNode,
  installedVulkanDrivers,
  noAdapterHint,
  type VulkanDriver,
} from '@prunefuse/engine/vulkan-drivers';
import { HOST, type PackageSystem } from './debian-packages.js';

/** What ensureWebgpuTestDriver needs of the machine; tests of it pass their own. */
export interface DriverSystem extends PackageSystem {
  /** A GPU device node (see the engine's gpuDeviceNode), null on a CPU-only machine. */
  gpuDevice: () => string | null;
  drivers: () => VulkanDriver[];
  /** VERSION_CODENAME of /etc/os-release (e.g. 'bookworm'); null when there is none. */
  codename: () => string | null;
  /** The apt source files' text, to tell whether a suite is configured. */
  aptSources: () => string;
  writeFile: (file: string, text: string) => void;
}

/** Where the backports suite goes when it is not configured yet. */
export const BACKPORTS_SOURCES = '/etc/apt/sources.list.d/prunefuse-backports.sources';

const APT_OPTIONS = ['-qq', '-o', 'DPkg::Lock::Timeout=600'];

/**
 * Gives the webgpu tests a Vulkan driver Dawn accepts on a CPU-only machine that lacks
 * one, so that they run there instead of skipping: Mesa's lavapipe, from Debian. A machine
 * with a GPU device is left alone: its own driver serves Dawn, whatever Mesa it has. Debian
 * 12 ships Mesa 22.3.6, whose lavapipe Dawn refuses (see the engine's noAdapterHint); its
 * bookworm-backports suite has Mesa 25.0.7, which runs every webgpu test. As root with
 * apt-get this installs it (adding the backports suite, an official Debian one, when
 * missing), as the tests install python3-torch and chromium; otherwise, or when that
 * fails, the webgpu tests skip and say why. Returns what it did, for one line of the
 * test command's output; null when nothing was needed.
 */
export function ensureWebgpuTestDriver(system: DriverSystem = HOST_DRIVERS): string | null {
  if (system.gpuDevice() !== null) return null;
  const hint = noAdapterHint(system.drivers());
  if (hint === null) return null;
  const skipped = (why: string) => `the webgpu tests will skip: ${why}`;
  if (!system.canInstall()) return skipped(hint);
  // Debian 12's own Mesa is too old; elsewhere the release's own package is tried.
  const fromBackports = system.codename() === 'bookworm';
  if (fromBackports && !/bookworm-backports/.test(system.aptSources())) {
    system.writeFile(
      BACKPORTS_SOURCES,
      [
        'Types: deb',
        'URIs: http://deb.debian.org/debian',
        'Suites: bookworm-backports',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
      ].join('\n'),
    );
  }
  system.run('apt-get', ['update', ...APT_OPTIONS]);
  const result = system.run('apt-get', [
    'install',
    '-y',
    '--no-install-recommends',
    ...APT_OPTIONS,
    ...(fromBackports ? ['-t', 'bookworm-backports'] : []),
    'mesa-vulkan-drivers',
  ]);
  const after = noAdapterHint(system.drivers());
  if (result.status === 0 && after === null) {
    return `installed Mesa's lavapipe${fromBackports ? ' from bookworm-backports' : ''} for the webgpu tests`;
  }
  const why = result.stderr.trim().split('\n').slice(-2).join(' | ');
  return skipped(
    `apt-get install mesa-vulkan-drivers did not help${why ? ` (${why})` : ''}: ${after ?? hint}`,
  );
}

const HOST_DRIVERS: DriverSystem = {
  ...HOST,
  gpuDevice: () => gpuDeviceNode(),
  drivers: () => installedVulkanDrivers(),
  codename: () => {
    try {
      return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null;
    } catch {
      return null;
    }
  },
  aptSources: () => {
    const dir = '/etc/apt/sources.list.d';
    const files = [
      '/etc/apt/sources.list',
      ...(existsSync(dir) ? readdirSync(dir).map((name) => path.join(dir, name)) : []),
    ];
    return files.map((file) => (existsSync(file) ? readFileSync(file, 'utf8') : '')).join('\n');
  },
  writeFile: (file, text) => writeFileSync(file, text),
};
