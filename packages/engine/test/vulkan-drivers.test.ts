import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installedVulkanDrivers, noAdapterHint } from '../src/vulkan-drivers.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-vulkan-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An ICD manifest as Mesa's packages install it. */
function manifest(dir: string, name: string, library: string, apiVersion: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      ICD: { api_version: apiVersion, library_path: library },
      file_format_version: '1.0.0',
    }),
  );
  return file;
}

describe('why Dawn finds no adapter, from the Vulkan drivers installed', () => {
  it("names an old lavapipe (Debian 12's Mesa 22.3.6) and how to get a newer one", () => {
    const dir = path.join(root, 'icd.d');
    // as in mesa-vulkan-drivers 22.3.6-1+deb12u2 and 25.0.7-2~bpo12+1
    const old = manifest(dir, 'lvp_icd.x86_64.json', '/usr/lib/libvulkan_lvp.so', '1.1.230');
    manifest(dir, 'intel_icd.x86_64.json', '/usr/lib/libvulkan_intel.so', '1.3.230');
    const drivers = installedVulkanDrivers({ env: {}, dirs: [dir] });
    expect(drivers.map((d) => d.apiVersion)).toEqual(['1.3.230', '1.1.230']);
    const hint = noAdapterHint(drivers);
    expect(hint).toContain(`Mesa's lavapipe here (${old}) implements Vulkan 1.1.230`);
    expect(hint).toContain('apt-get install -t bookworm-backports mesa-vulkan-drivers');

    rmSync(old);
    manifest(dir, 'lvp_icd.json', 'libvulkan_lvp.so', '1.4.305');
    expect(noAdapterHint(installedVulkanDrivers({ env: {}, dirs: [dir] }))).toBeNull();
  });

  it('says when no driver is installed at all; unreadable manifests count as none', () => {
    const dir = path.join(root, 'icd.d');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'broken.json'), '{"ICD": {');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a manifest');
    const drivers = installedVulkanDrivers({ env: {}, dirs: [dir, path.join(root, 'absent')] });
    expect(drivers).toEqual([]);
    expect(noAdapterHint(drivers)).toMatch(/^no Vulkan driver found .*mesa-vulkan-drivers/);
  });

  it('reads the manifests VK_DRIVER_FILES or VK_ICD_FILENAMES name instead of the directories', () => {
    const dir = path.join(root, 'icd.d');
    manifest(dir, 'lvp_icd.json', 'libvulkan_lvp.so', '1.4.305');
    const named = manifest(path.join(root, 'mine'), 'old.json', '/opt/libvulkan_lvp.so', '1.1.230');
    for (const variable of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
      const drivers = installedVulkanDrivers({ env: { [variable]: named }, dirs: [dir] });
      expect(drivers.map((d) => d.manifest)).toEqual([named]);
      expect(noAdapterHint(drivers)).toContain('implements Vulkan 1.1.230');
    }
    // A folder named there stands for the manifests in it.
    const inFolder = installedVulkanDrivers({
      env: { VK_DRIVER_FILES: path.dirname(named) },
      dirs: [dir],
    });
    expect(inFolder.map((d) => d.manifest)).toEqual([named]);
  });
});
