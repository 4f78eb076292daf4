import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@prunefuse/engine';
import { gitCommit } from './run-environment.js';

/**
 * What `prunefuse --version` prints: enough to say which code computed a figure. The
 * commit is that of the checkout holding this file (a bundle copied to another machine
 * has none).
 */
export function versionText(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [
    `prunefuse ${packageVersion()}`,
    `commit ${gitCommit(here) ?? 'unknown (not run from a git checkout)'}`,
    `tfjs ${tf.version_core}`,
    `node ${process.version}`,
  ].join('\n');
}

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    // The single-file bundle has no package.json beside it.
    return 'unknown (bundle)';
  }
}
