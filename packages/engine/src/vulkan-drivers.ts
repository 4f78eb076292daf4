import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Device nodes through which a GPU driver is reached: NVIDIA's, the DRM render nodes of
 * AMD and Intel, AMD's compute node, WSL's. Without any, Dawn finds at most a CPU
 * emulation, which `auto` passes over anyway; it is then not loaded at all, so that its
 * native warnings (libvulkan missing, limits reduced) stay off every command that does
 * not ask for webgpu.
 */
export const GPU_DEVICE_NODES = ['/dev/nvidiactl', '/dev/dri', '/dev/kfd', '/dev/dxg'] as const;

/** The first GPU device node present, or null on a machine without a GPU driver. */
export function gpuDeviceNode(exists: (file: string) => boolean = existsSync): string | null {
  return GPU_DEVICE_NODES.find((node) => exists(node)) ?? null;
}

/**
 * Where the Vulkan loader finds installed drivers (ICD manifests) on Linux, unless
 * VK_DRIVER_FILES / VK_ICD_FILENAMES name the files.
 */
export const VULKAN_ICD_DIRS = [
  '/usr/local/share/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
] as const;

/** One installed Vulkan driver: its manifest and the Vulkan version it implements. */
export interface VulkanDriver {
  manifest: string;
  library: string;
  apiVersion: string;
}

/**
 * The Vulkan drivers the loader would offer Dawn: the manifests VK_DRIVER_FILES (or the
 * older VK_ICD_FILENAMES) names, files or folders of them, else every manifest in `dirs`.
 * Unreadable manifests are left out: the loader skips them too.
 */
export function installedVulkanDrivers(
  options: { env?: NodeJS.ProcessEnv; dirs?: readonly string[] } = {},
): VulkanDriver[] {
  const env = options.env ?? process.env;
  const named = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const manifests = named
    ? named
        .split(path.delimiter)
        .filter((entry) => entry.length > 0)
        .flatMap((entry) => (isDirectory(entry) ? jsonFilesIn(entry) : [entry]))
    : (options.dirs ?? VULKAN_ICD_DIRS).flatMap((dir) => jsonFilesIn(dir));
  return manifests.flatMap((manifest) => {
    try {
      const { ICD } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        ICD?: { library_path?: unknown; api_version?: unknown };
      };
      if (typeof ICD?.library_path !== 'string' || typeof ICD.api_version !== 'string') return [];
      return [{ manifest, library: ICD.library_path, apiVersion: ICD.api_version }];
    } catch {
      return [];
    }
  });
}

/**
 * Why Dawn found no adapter, where the installed drivers tell, with what to do; null when
 * they do not (a GPU driver is installed but offered nothing). Mesa's lavapipe before
 * Mesa 23 implements Vulkan 1.1 without the dynamic indexing of uniform arrays that Dawn
 * requires (measured: Debian 12's Mesa 22.3.6 is refused, bookworm-backports' 25.0.7
 * runs every webgpu test).
 */
export function noAdapterHint(drivers: readonly VulkanDriver[]): string | null {
  if (drivers.length === 0) {
    return (
      `no Vulkan driver found (no readable ICD manifest in ${VULKAN_ICD_DIRS.join(', ')}, ` +
      'or in what VK_DRIVER_FILES names): ' +
      "install the GPU's Vulkan driver, or Mesa's CPU emulation " +
      '(apt-get install mesa-vulkan-drivers; webgpu on it is for tests, not speed)'
    );
  }
  const lavapipe = drivers.find((driver) => /libvulkan_lvp/.test(driver.library));
  if (lavapipe && olderThan(lavapipe.apiVersion, [1, 3])) {
    return (
      `Mesa's lavapipe here (${lavapipe.manifest}) implements Vulkan ${lavapipe.apiVersion}, ` +
      'which Dawn refuses (Mesa before 23 lacks features it requires): install Mesa 23 or newer ' +
      "(Debian 12: add the 'bookworm-backports' suite, then " +
      'apt-get install -t bookworm-backports mesa-vulkan-drivers)'
    );
  }
  return null;
}

function olderThan(version: string, [major, minor]: [number, number]): boolean {
  const [m = 0, n = 0] = version.split('.').map(Number);
  return m < major || (m === major && n < minor);
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function jsonFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}
