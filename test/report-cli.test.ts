import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// The report package's fixture builder: realistic run records without running the loop.
import { fixtureStore, fixtureSweep } from '../packages/report/test/fixtures.js';

/**
 * `report`, `baseline write` and `check` as CI runs them: through the real CLI, checking
 * exit codes and that --json leaves exactly one JSON document on stdout.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function prunefuse(...args: string[]) {
  const result = spawnSync(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    ['--conditions=source', path.join(ROOT, 'packages/runner/src/bin.ts'), ...args],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

type RunRecord = ReturnType<typeof fixtureSweep>[number];

const isSvp = (run: RunRecord) => run.config.method.name === 'svp';

describe('prunefuse baseline write / check', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'prunefuse-cli-'));
  const baselineFile = path.join(dir, 'baselines', 'quick.json');
  const store = fixtureStore(fixtureSweep());

  it('records a baseline that the same store then passes', () => {
    const write = prunefuse('baseline', 'write', store, '--out', baselineFile, '--json');
    expect(write.stderr).toBe('');
    expect(write.status).toBe(0);
    expect(JSON.parse(write.stdout)).toEqual({ out: baselineFile, entries: 25, runs: 18 });
    expect(JSON.parse(readFileSync(baselineFile, 'utf8')).defaults).toEqual({
      accuracyDropPoints: 2,
      macsGrowthPct: 1,
      paramsGrowthPct: 0,
    });

    const check = prunefuse('check', store, '--baseline', baselineFile);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/^status\s+run group/);
    expect(check.stdout).toContain(
      '25 pass, 0 improved, 0 regressed, 0 missing, 0 invalid, 0 problems: OK',
    );
  });

  it('exits 1 with a table naming an accuracy regression', () => {
    const changed = fixtureSweep({ accuracyShift: -5 });
    const regressed = fixtureStore(
      fixtureSweep().map((run, i) => (isSvp(run) ? changed[i]! : run)),
    );
    const check = prunefuse('check', regressed, '--baseline', baselineFile);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(
      /REGRESSED\s+quick \| cifar10 \| resnet20 \| svp resnet8 \| least-confidence \| b=500/,
    );
    expect(check.stdout).toContain('accuracy dropped more than 2.00 points');
    expect(check.stdout).toContain(
      '22 pass, 0 improved, 3 regressed, 0 missing, 0 invalid, 0 problems: FAIL',
    );
  });

  it('holds a baseline of one seed against that seed when the store has gained another', () => {
    const seed0 = path.join(dir, 'baselines', 'seed0.json');
    const write = prunefuse(
      'baseline',
      'write',
      fixtureStore(fixtureSweep({}, [0])),
      '--out',
      seed0,
    );
    expect(write.status).toBe(0);
    const extended = fixtureStore([
      ...fixtureSweep({}, [0]),
      ...fixtureSweep({ accuracyShift: -8 }, [1]),
    ]);
    const check = prunefuse('check', extended, '--baseline', seed0);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(
      '25 pass, 0 improved, 0 regressed, 0 missing, 0 invalid, 0 problems: OK',
    );
    expect(check.stdout).toContain('seeds 1 not in the baseline (not compared');
  });

  it('passes the committed Fashion-MNIST ResNet-20 store against its committed baseline', () => {
    // A damaged or edited run record there, or a change in how runs are grouped, summarised
    // or counted, fails here rather than in a user's regression gate.
    const check = prunefuse(
      'check',
      'reports/fashion-mnist-resnet20/store',
      '--baseline',
      'baselines/fashion-mnist-resnet20.json',
    );
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/ 0 regressed, 0 missing, 0 invalid, 0 problems: OK/);
  });

  it('exits 1 on added MACs and on a missing run, with one JSON document under --json', () => {
    const changed = fixtureSweep({ macsScale: 1.1 });
    const costly = fixtureStore(
      fixtureSweep()
        .map((run, i) => (isSvp(run) ? changed[i]! : run))
        .filter((run) => !(run.config.method.name === 'random' && run.config.seed === 1)),
    );
    const check = prunefuse('check', costly, '--baseline', baselineFile, '--json');
    expect(check.status).toBe(1);
    const result = JSON.parse(check.stdout);
    expect(result.ok).toBe(false);
    expect(result.counts).toEqual({ pass: 19, improved: 0, regressed: 3, missing: 3, invalid: 0 });
    const svp = result.rows.find((r: { keyText: string }) => r.keyText.includes('svp resnet8'));
    expect(svp.metrics.find((m: { metric: string }) => m.metric === 'macs.total')).toMatchObject({
      status: 'regressed',
      tolerance: 1,
    });
  });

  it('exits 1 on a diverged run, naming it below the table', () => {
    const runs = fixtureSweep();
    const svp = runs.find(isSvp)!;
    svp.targets[0]!.diverged = { reason: 'test accuracy 0.1 at chance (1/10 classes)' };
    const check = prunefuse('check', fixtureStore(runs), '--baseline', baselineFile);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/INVALID\s+quick \| cifar10 \| resnet20 \| svp resnet8/);
    expect(check.stdout).toContain('unsound runs (each fails the check):');
    expect(check.stdout).toContain(
      `run ${svp.id} (svp resnet8 resnet20 least-confidence seed ${svp.config.seed}): targets[0] ` +
        `(${svp.targets[0]!.labelled} labelled) diverged: test accuracy 0.1 at chance (1/10 classes)`,
    );
  });

  it('names a damaged record and its failing field', () => {
    const damaged = fixtureStore(fixtureSweep());
    const [first] = readdirSync(path.join(damaged, 'runs'));
    const file = path.join(damaged, 'runs', first!);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...record, targets: undefined }));
    const check = prunefuse('check', damaged, '--baseline', baselineFile);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(
      `${file}: not a valid run record:\n  targets: Invalid input: expected array, received undefined`,
    );
  });

  it('names the baseline file when it cannot be read', () => {
    const check = prunefuse('check', store, '--baseline', path.join(dir, 'nope.json'));
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(
      `${path.join(dir, 'nope.json')}: cannot read regression baseline (ENOENT)`,
    );
  });
});

describe('prunefuse report', () => {
  it('writes next to the store by default, and never over a page git tracks unless --out names it', () => {
    const store = fixtureStore(fixtureSweep());
    const report = prunefuse('report', store, '--no-paper', '--json');
    expect(report.status).toBe(0);
    const page = path.join(store, 'report', 'index.html');
    expect(JSON.parse(report.stdout).out).toBe(page);

    const git = (...args: string[]) => spawnSync('git', args, { cwd: store, encoding: 'utf8' });
    git('init', '-q');
    git('add', 'report/index.html');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'sample');
    const committed = readFileSync(page, 'utf8');
    const refused = prunefuse('report', store, '--no-paper', '--title', 'other');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `${page} is tracked by git; pass --out ${path.join(store, 'report')} to replace it`,
    );
    expect(readFileSync(page, 'utf8')).toBe(committed);
    const named = prunefuse(
      'report',
      store,
      '--no-paper',
      '--title',
      'other',
      '--out',
      path.join(store, 'report'),
    );
    expect(named.status).toBe(0);
    expect(readFileSync(page, 'utf8')).not.toBe(committed);
  });

  it('writes <out>/index.html and lists its tables and charts under --json', () => {
    const store = fixtureStore(fixtureSweep());
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'prunefuse-cli-report-')), 'quick');
    const report = prunefuse('report', store, '--out', out, '--json');
    expect(report.status).toBe(0);
    const written = JSON.parse(report.stdout);
    expect(written.out).toBe(path.join(out, 'index.html'));
    expect(existsSync(written.out)).toBe(true);
    expect(written.tables).toEqual([
      'claims',
      'results: quick · cifar10 · resnet20 · least-confidence',
      'provenance',
    ]);
    expect(written.charts).toHaveLength(7);
    // The default paper file is the repository's, read from the working directory: no run
    // of this sweep matches one of its figures, which the page says in one line.
    const html = readFileSync(written.out, 'utf8');
    expect(html).toContain('data-paper="unmatched"');
    expect(html).toContain('2501.01118');
  });
});
