import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

function run(threads: string): { threads: number; digest: string } {
  const result = spawnSync(
    tsx,
    ['--conditions=source', path.join(here, 'fixtures/threaded-gradients.ts')],
    {
      env: { ...process.env, PRUNEFUSE_WASM_THREADS: threads },
      encoding: 'utf8',
      // The process must end by itself: the pthreads' workers may not keep Node alive.
      timeout: 60_000,
    },
  );
  expect(result.error, result.stderr).toBeUndefined();
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe('the threaded wasm build', () => {
  it('runs with the thread count asked for and gives bit-identical gradients', () => {
    const single = run('1');
    const threaded = run('2');
    expect(single.threads).toBe(1);
    expect(threaded.threads).toBe(2);
    expect(threaded.digest).toBe(single.digest);
  });

  it('rejects a thread count it cannot honour, naming the variable', () => {
    const result = spawnSync(
      tsx,
      ['--conditions=source', path.join(here, 'fixtures/threaded-gradients.ts')],
      {
        env: { ...process.env, PRUNEFUSE_WASM_THREADS: 'two' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('PRUNEFUSE_WASM_THREADS');
  });
});
