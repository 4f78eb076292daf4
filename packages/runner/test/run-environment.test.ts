import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitCommit } from '../src/run-environment.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-git-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();

describe('gitCommit', () => {
  it('names HEAD, marks tracked changes as dirty, and is null outside a checkout', () => {
    expect(gitCommit(dir)).toBeNull();
    git('init', '-q');
    writeFileSync(path.join(dir, 'a.txt'), 'one\n');
    git('add', 'a.txt');
    git('commit', '-qm', 'first');
    const head = git('rev-parse', 'HEAD');
    expect(gitCommit(dir)).toBe(head);
    writeFileSync(path.join(dir, 'untracked.txt'), 'not part of the commit\n');
    expect(gitCommit(dir)).toBe(head);
    writeFileSync(path.join(dir, 'a.txt'), 'two\n');
    expect(gitCommit(dir)).toBe(`${head}-dirty`);
  });
});
