import {
  ACQUISITION_NAMES,
  METHOD_NAMES,
  type MethodConfig,
  readJsonFile,
} from '@prunefuse/results';
import { z } from 'zod';
import type { GroupSummary } from './aggregate.js';
import { groupKeyText } from './groups.js';
import type { Stat } from './stats.js';

/**
 * Which measured runs a published figure is comparable with. Options left out match any
 * value (the paper often does not say which pruning ratio its best number used).
 */
const paperMethod = z
  .strictObject({
    name: z.enum(METHOD_NAMES),
    prune: z.number().min(0).lt(1).optional(),
    fusion: z.boolean().optional(),
    kd: z.boolean().optional(),
    proxyArch: z.string().min(1).optional(),
  })
  .superRefine((method, context) => {
    const owners = {
      prune: 'prunefuse',
      fusion: 'prunefuse',
      kd: 'prunefuse',
      proxyArch: 'svp',
    } as const;
    for (const [option, owner] of Object.entries(owners)) {
      if (method[option as keyof typeof owners] !== undefined && method.name !== owner) {
        context.addIssue({
          code: 'custom',
          path: [option],
          message: `only applies to method '${owner}'`,
        });
      }
    }
  });

/**
 * The datasets the paper reports on, spelt as our runs record them: a misspelt name in
 * the figures file would otherwise match no run and vanish from the report silently.
 */
const PAPER_DATASETS = ['cifar10', 'cifar100', 'tiny-imagenet'] as const;

const paperEntry = z.strictObject({
  /** Stable name of the figure, e.g. "cifar100-b50-prunefuse-kd". */
  id: z.string().min(1),
  /** A dataset as runs record its name; a figure matches runs by it. */
  dataset: z.enum(PAPER_DATASETS),
  /** null where the source does not tie the figure to one architecture. */
  arch: z.string().min(1).nullable(),
  acquisition: z.enum(ACQUISITION_NAMES).nullable(),
  /** Labelled fraction of the training set, e.g. 0.5 for b = 50%. */
  budgetFraction: z.number().gt(0).max(1),
  method: paperMethod,
  accuracyPct: z.number().min(0).max(100),
  /** Where in the paper the number is printed: "arXiv 2501.01118, Table 3". */
  source: z.string().min(1),
  /** What is uncertain about this figure or how it was matched. */
  note: z.string().optional(),
});

export const paperBaselineSchema = z.strictObject({
  schema: z.literal(1),
  paper: z.strictObject({
    title: z.string().min(1),
    authors: z.array(z.string().min(1)),
    arxiv: z.string().min(1),
    url: z.url(),
  }),
  note: z.string().optional(),
  entries: z.array(paperEntry).min(1),
});

export type PaperBaseline = z.infer<typeof paperBaselineSchema>;
export type PaperEntry = z.infer<typeof paperEntry>;

export function loadPaperBaseline(file: string): PaperBaseline {
  const paper = readJsonFile(file, paperBaselineSchema, 'paper baseline');
  const ids = new Set<string>();
  for (const [i, entry] of paper.entries.entries()) {
    if (ids.has(entry.id))
      throw new Error(`${file}: entries[${i}].id: '${entry.id}' appears twice`);
    ids.add(entry.id);
  }
  return paper;
}

/** A published figure beside every measured group it is comparable with. */
export interface PaperComparison {
  entry: PaperEntry;
  /** The entry's method and the options it pins, e.g. "prunefuse no-KD". */
  method: string;
  /** Empty when no measured run matches. */
  matches: PaperMatch[];
}

export interface PaperMatch {
  group: string;
  method: string;
  arch: string;
  labelled: number;
  fraction: number;
  /** Measured accuracy in percent over seeds. */
  measured: Stat;
  /** measured mean - paper, in accuracy points. */
  gapPoints: number;
}

/** Budgets are fractions of differently sized training sets, so match to within 0.5 percentage point. */
const FRACTION_TOLERANCE = 0.005;

export function comparePaper(
  paper: PaperBaseline,
  summaries: readonly GroupSummary[],
): PaperComparison[] {
  return paper.entries.map((entry) => ({
    entry,
    method: paperMethodLabel(entry.method),
    matches: summaries.flatMap((summary): PaperMatch[] => {
      const { key, method } = summary.group;
      if (key.dataset !== entry.dataset) return [];
      if (entry.arch !== null && key.arch !== entry.arch) return [];
      if (entry.acquisition !== null && key.acquisition !== entry.acquisition) return [];
      if (!methodMatches(entry.method, method)) return [];
      return summary.budgets
        .filter((b) => Math.abs(b.fraction - entry.budgetFraction) <= FRACTION_TOLERANCE)
        .map((b) => ({
          group: groupKeyText(key),
          method: key.method,
          arch: key.arch,
          labelled: b.labelled,
          fraction: b.fraction,
          measured: b.accuracyPct,
          gapPoints: b.accuracyPct.mean - entry.accuracyPct,
        }));
    }),
  }));
}

function paperMethodLabel(method: PaperEntry['method']): string {
  const parts: string[] = [method.name];
  if (method.prune !== undefined) parts.push(`p=${method.prune}`);
  if (method.proxyArch !== undefined) parts.push(method.proxyArch);
  if (method.fusion === false) parts.push('no-fusion');
  if (method.kd !== undefined) parts.push(method.kd ? 'with KD' : 'no-KD');
  return parts.join(' ');
}

function methodMatches(wanted: PaperEntry['method'], method: MethodConfig): boolean {
  if (wanted.name !== method.name) return false;
  if (method.name === 'prunefuse') {
    if (wanted.prune !== undefined && Math.abs(wanted.prune - method.prune) > 1e-9) return false;
    if (wanted.fusion !== undefined && wanted.fusion !== method.fusion) return false;
    if (wanted.kd !== undefined && wanted.kd !== method.kd) return false;
  }
  if (
    method.name === 'svp' &&
    wanted.proxyArch !== undefined &&
    wanted.proxyArch !== method.proxyArch
  ) {
    return false;
  }
  return true;
}
