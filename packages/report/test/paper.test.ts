import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarizeRuns } from '../src/aggregate.js';
import {
  comparePaper,
  loadPaperBaseline,
  type PaperBaseline,
  type PaperEntry,
} from '../src/paper.js';
import { fixtureRun, fixtureSweep, METHODS } from './fixtures.js';

const PAPER_FILE = fileURLToPath(new URL('../../../baselines/paper.json', import.meta.url));

function writeTemp(name: string, value: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'prunefuse-paper-')), name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const entry = (overrides: Partial<PaperEntry>): PaperEntry => ({
  id: 'cifar100-b30',
  dataset: 'cifar100',
  arch: null,
  acquisition: null,
  budgetFraction: 0.3,
  method: { name: 'prunefuse', kd: true },
  accuracyPct: 80,
  source: 'test',
  ...overrides,
});

function paperWith(entries: PaperEntry[]): PaperBaseline {
  const paper = loadPaperBaseline(PAPER_FILE);
  return { ...paper, entries };
}

describe('baselines/paper.json', () => {
  it('holds the published figures with their source', () => {
    const paper = loadPaperBaseline(PAPER_FILE);
    expect(paper.paper.arxiv).toBe('2501.01118');
    const byId = new Map(paper.entries.map((e) => [e.id, e]));
    expect(byId.get('cifar10-b50-prunefuse-best')).toMatchObject({
      dataset: 'cifar10',
      budgetFraction: 0.5,
      accuracyPct: 93.69,
    });
    expect(byId.get('cifar100-b50-prunefuse-kd')).toMatchObject({
      dataset: 'cifar100',
      method: { name: 'prunefuse', kd: true },
      accuracyPct: 67.87,
    });
    expect(byId.get('cifar100-b50-prunefuse-no-kd')).toMatchObject({
      method: { name: 'prunefuse', kd: false },
      accuracyPct: 67.49,
    });
    expect(byId.get('cifar100-b50-prunefuse-kd')!.source).toMatch(/Table 3/);
  });
});

describe('loadPaperBaseline', () => {
  const valid = () => JSON.parse(JSON.stringify(loadPaperBaseline(PAPER_FILE)));

  it('names the file and the field that is wrong', () => {
    const broken = valid();
    broken.entries[1].accuracyPct = '67.87';
    broken.entries[0].dataset = 'cifar-10';
    const file = writeTemp('paper.json', broken);
    const error = (() => {
      try {
        loadPaperBaseline(file);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error).toContain(file);
    expect(error).toMatch(/entries\[1\]\.accuracyPct: .*number/);
    expect(error).toMatch(/entries\[0\]\.dataset/);
  });

  it('refuses options that do not belong to the method, and repeated ids', () => {
    const misplaced = valid();
    misplaced.entries[0].method = { name: 'svp', prune: 0.5 };
    expect(() => loadPaperBaseline(writeTemp('p.json', misplaced))).toThrow(
      /entries\[0\]\.method\.prune: only applies to method 'prunefuse'/,
    );
    const repeated = valid();
    repeated.entries[1].id = repeated.entries[0].id;
    expect(() => loadPaperBaseline(writeTemp('p.json', repeated))).toThrow(
      /entries\[1\]\.id: .* appears twice/,
    );
  });

  it('says when the file is missing or not JSON', () => {
    expect(() => loadPaperBaseline('/nonexistent/paper.json')).toThrow(
      /\/nonexistent\/paper.json: cannot read/,
    );
    expect(() => loadPaperBaseline(writeTemp('p.json', '{ not json'))).toThrow(/not valid JSON/);
  });
});

describe('comparePaper', () => {
  const records = [
    ...[0, 1].map((seed) =>
      fixtureRun({ method: METHODS.prunefuse(0.5), seed, dataset: 'cifar100' }),
    ),
    ...[0, 1].map((seed) =>
      fixtureRun({ method: METHODS.prunefuse(0.5, { kd: false }), seed, dataset: 'cifar100' }),
    ),
    fixtureRun({ method: METHODS.svp(), seed: 0, dataset: 'cifar100' }),
  ];
  const summaries = summarizeRuns(records);

  it('matches by dataset, budget fraction and the method options the entry pins, and gives the gap', () => {
    const [withKd, withoutKd] = comparePaper(
      paperWith([
        entry({ id: 'kd' }),
        entry({ id: 'no-kd', method: { name: 'prunefuse', kd: false } }),
      ]),
      summaries,
    );
    expect(withKd!.method).toBe('prunefuse with KD');
    expect(withKd!.matches.map((m) => [m.method, m.labelled])).toEqual([['prunefuse p=0.5', 1500]]);
    const measured = withKd!.matches[0]!.measured;
    expect(measured.n).toBe(2);
    expect(withKd!.matches[0]!.gapPoints).toBeCloseTo(measured.mean - 80, 12);
    expect(withoutKd!.matches.map((m) => m.method)).toEqual(['prunefuse p=0.5 no-KD']);
  });

  it('compares an entry that pins no options with every run of the method', () => {
    const [any] = comparePaper(paperWith([entry({ method: { name: 'prunefuse' } })]), summaries);
    expect(any!.matches.map((m) => m.method)).toEqual(['prunefuse p=0.5', 'prunefuse p=0.5 no-KD']);
  });

  it('leaves an entry unmatched when no run has its dataset, architecture, budget or method', () => {
    const unmatched = comparePaper(
      paperWith([
        entry({ id: 'dataset', dataset: 'cifar10' }),
        entry({ id: 'arch', arch: 'resnet56' }),
        entry({ id: 'budget', budgetFraction: 0.5 }),
        entry({ id: 'prune', method: { name: 'prunefuse', prune: 0.8 } }),
        entry({ id: 'method', method: { name: 'active-learning' } }),
      ]),
      summaries,
    );
    expect(unmatched.map((c) => c.matches.length)).toEqual([0, 0, 0, 0, 0]);
  });

  it('finds nothing to compare in a CIFAR-10 sweep that stops at 30%', () => {
    const rows = comparePaper(loadPaperBaseline(PAPER_FILE), summarizeRuns(fixtureSweep()));
    expect(rows.every((r) => r.matches.length === 0)).toBe(true);
  });
});
