import { describe, expect, it } from 'vitest';
import {
  BACKPORTS_SOURCES,
  type DriverSystem,
  ensureWebgpuTestDriver,
} from './support/webgpu-driver.js';

const OLD_LAVAPIPE = {
  manifest: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  library: 'libvulkan_lvp.so',
  apiVersion: '1.1.230',
};
const NEW_LAVAPIPE = { ...OLD_LAVAPIPE, apiVersion: '1.4.305' };

/** A machine with `drivers` installed, where apt-get install brings `installs` (null: it fails). */
function machine(options: {
  root: boolean;
  codename: string | null;
  drivers: (typeof OLD_LAVAPIPE)[];
  installs: (typeof OLD_LAVAPIPE)[] | null;
  sources?: string;
  gpuDevice?: string;
}) {
  let drivers = options.drivers;
  const commands: string[] = [];
  const written: Record<string, string> = {};
  const system: DriverSystem = {
    canInstall: () => options.root,
    gpuDevice: () => options.gpuDevice ?? null,
    exists: () => true,
    run: (command, args) => {
      commands.push([command, ...args].join(' '));
      if (args[0] !== 'install') return { status: 0, stderr: '' };
      if (options.installs === null)
        return { status: 100, stderr: 'E: Unable to locate package mesa-vulkan-drivers' };
      drivers = options.installs;
      return { status: 0, stderr: '' };
    },
    drivers: () => drivers,
    codename: () => options.codename,
    aptSources: () => options.sources ?? 'Suites: bookworm bookworm-updates',
    writeFile: (file, text) => {
      written[file] = text;
    },
  };
  return { system, commands, written };
}

describe('a Vulkan driver for the webgpu tests', () => {
  it('leaves a machine with a GPU device alone, whatever its Mesa', () => {
    const { system, commands } = machine({
      root: true,
      codename: 'bookworm',
      drivers: [OLD_LAVAPIPE],
      installs: [NEW_LAVAPIPE],
      gpuDevice: '/dev/nvidiactl',
    });
    expect(ensureWebgpuTestDriver(system)).toBeNull();
    expect(commands).toEqual([]);
  });

  it('does nothing where Dawn accepts the installed one', () => {
    const { system, commands } = machine({
      root: true,
      codename: 'bookworm',
      drivers: [NEW_LAVAPIPE],
      installs: null,
    });
    expect(ensureWebgpuTestDriver(system)).toBeNull();
    expect(commands).toEqual([]);
  });

  it("replaces Debian 12's lavapipe with bookworm-backports' as root, adding the suite once", () => {
    const { system, commands, written } = machine({
      root: true,
      codename: 'bookworm',
      drivers: [OLD_LAVAPIPE],
      installs: [NEW_LAVAPIPE],
    });
    expect(ensureWebgpuTestDriver(system)).toBe(
      "installed Mesa's lavapipe from bookworm-backports for the webgpu tests",
    );
    expect(written[BACKPORTS_SOURCES]).toContain('Suites: bookworm-backports');
    expect(commands).toEqual([
      'apt-get update -qq -o DPkg::Lock::Timeout=600',
      'apt-get install -y --no-install-recommends -qq -o DPkg::Lock::Timeout=600 -t bookworm-backports mesa-vulkan-drivers',
    ]);
    const configured = machine({
      root: true,
      codename: 'bookworm',
      drivers: [OLD_LAVAPIPE],
      installs: [NEW_LAVAPIPE],
      sources: 'Suites: bookworm-backports',
    });
    ensureWebgpuTestDriver(configured.system);
    expect(configured.written).toEqual({});
  });

  it('installs Mesa from the release itself elsewhere, where there is no driver at all', () => {
    const { system, commands, written } = machine({
      root: true,
      codename: 'trixie',
      drivers: [],
      installs: [NEW_LAVAPIPE],
    });
    expect(ensureWebgpuTestDriver(system)).toBe("installed Mesa's lavapipe for the webgpu tests");
    expect(written).toEqual({});
    expect(commands.at(-1)).toBe(
      'apt-get install -y --no-install-recommends -qq -o DPkg::Lock::Timeout=600 mesa-vulkan-drivers',
    );
  });

  it('leaves the tests to skip, saying why, without root or when apt-get cannot help', () => {
    const user = machine({
      root: false,
      codename: 'bookworm',
      drivers: [OLD_LAVAPIPE],
      installs: [NEW_LAVAPIPE],
    });
    expect(ensureWebgpuTestDriver(user.system)).toMatch(
      /^the webgpu tests will skip: Mesa's lavapipe here .* implements Vulkan 1\.1\.230/,
    );
    expect(user.commands).toEqual([]);
    const offline = machine({
      root: true,
      codename: 'bookworm',
      drivers: [OLD_LAVAPIPE],
      installs: null,
    });
    expect(ensureWebgpuTestDriver(offline.system)).toMatch(
      /^the webgpu tests will skip: apt-get install mesa-vulkan-drivers did not help \(E: Unable to locate package mesa-vulkan-drivers\): Mesa's lavapipe/,
    );
  });
});
