import { describe, expect, it } from 'vitest';
import { ensureDebianPackages, type PackageSystem } from './support/debian-packages.js';

/** A machine where `installed` holds the files present and apt-get behaves as told. */
function machine(options: {
  root: boolean;
  installed?: string[];
  /** What each `apt-get install` installs, in turn (null: it fails). */
  installs?: Array<string[] | null>;
}) {
  const files = new Set(options.installed ?? []);
  const installs = [...(options.installs ?? [])];
  const commands: string[] = [];
  const system: PackageSystem = {
    canInstall: () => options.root,
    exists: (file) => files.has(file),
    run: (command, args) => {
      commands.push([command, ...args].join(' '));
      if (args[0] !== 'install') return { status: 0, stderr: '' };
      const installed = installs.shift() ?? null;
      if (installed === null) return { status: 100, stderr: 'E: Unable to locate package pkg' };
      for (const file of installed) files.add(file);
      return { status: 0, stderr: '' };
    },
  };
  return { system, commands };
}

const PKG = { name: 'pkg', provides: '/usr/bin/pkg' };

describe('ensureDebianPackages', () => {
  it('does nothing when the packages are there', () => {
    const { system, commands } = machine({ root: true, installed: ['/usr/bin/pkg'] });
    ensureDebianPackages([PKG], system);
    expect(commands).toEqual([]);
  });

  it('installs quietly as root, updating the package lists only when the install fails', () => {
    const first = machine({ root: true, installs: [['/usr/bin/pkg']] });
    ensureDebianPackages([PKG], first.system);
    expect(first.commands).toEqual([
      'apt-get install -y --no-install-recommends -qq -o DPkg::Lock::Timeout=600 pkg',
    ]);
    const fresh = machine({ root: true, installs: [null, ['/usr/bin/pkg']] });
    ensureDebianPackages([PKG], fresh.system);
    expect(fresh.commands.map((c) => c.split(' ')[1])).toEqual(['install', 'update', 'install']);
  });

  it('fails with the one command that installs them, never skips', () => {
    const user = machine({ root: false });
    expect(() => ensureDebianPackages([PKG], user.system)).toThrow(
      "these tests need Debian's pkg (/usr/bin/pkg not found); install with: " +
        "sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends pkg'",
    );
    const broken = machine({ root: true, installs: [null, null] });
    expect(() => ensureDebianPackages([PKG], broken.system)).toThrow(
      'apt-get could not install pkg (E: Unable to locate package pkg); run: apt-get update && ' +
        'apt-get install -y --no-install-recommends pkg',
    );
  });
});
