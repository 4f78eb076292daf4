import type { ExpandedRun } from './config/expand.js';

/**
 * The --filter language: clauses joined by commas, all of which must hold.
 *
 *   FIELD=VALUE        the field equals VALUE
 *   FIELD!=VALUE       the field differs from VALUE
 *   FIELD=A|B          the field equals A or B
 *
 * FIELD is a dotted path into the resolved run config (`method.prune`, `budget.initial`,
 * `targetTraining.epochs`, `dataset.trainSubset`) or one of the short names `id`,
 * `method` (method.name) and `dataset` (dataset.name). Numbers compare by value (0.5
 * matches .50). A run without the field (method.prune of an svp run) does not match
 * `=` and matches `!=`. Example: `method=prunefuse|svp,seed=1,method.prune!=0.8`.
 */
export const FILTER_SYNTAX =
  "comma-separated FIELD=VALUE or FIELD!=VALUE clauses, VALUE may be A|B; e.g. 'method=prunefuse,seed=1'";

type Scalar = string | number | boolean | null;

const SHORT_NAMES: Record<string, string> = { method: 'method.name', dataset: 'dataset.name' };

interface Clause {
  field: string;
  negated: boolean;
  values: string[];
}

/** Parses `expression` against the fields the given runs have; unknown fields are errors. */
export function parseFilter(
  expression: string,
  runs: readonly ExpandedRun[],
): (run: ExpandedRun) => boolean {
  const clauses = expression
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map(parseClause);
  const known = new Set<string>(['id', ...Object.keys(SHORT_NAMES)]);
  for (const run of runs) for (const field of leafFields(run.config)) known.add(field);
  for (const clause of clauses) {
    if (!known.has(clause.field)) {
      throw new Error(
        `--filter: unknown field '${clause.field}'; fields: ${[...known].sort().join(', ')}`,
      );
    }
  }
  return (run) =>
    clauses.every((clause) => {
      const value = fieldValue(run, clause.field);
      const equal = value !== undefined && clause.values.some((wanted) => sameValue(value, wanted));
      return clause.negated ? !equal : equal;
    });
}

function parseClause(text: string): Clause {
  const match = /^([A-Za-z0-9_.]+)\s*(!=|=)\s*(.+)$/.exec(text);
  if (!match) throw new Error(`--filter: '${text}' is not a clause; expected ${FILTER_SYNTAX}`);
  const [, field, operator, values] = match as unknown as [string, string, string, string];
  return { field, negated: operator === '!=', values: values.split('|').map((v) => v.trim()) };
}

function fieldValue(run: ExpandedRun, field: string): Scalar | undefined {
  if (field === 'id') return run.id;
  let current: unknown = run.config;
  for (const key of (SHORT_NAMES[field] ?? field).split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current === null || ['string', 'number', 'boolean'].includes(typeof current)
    ? (current as Scalar)
    : undefined;
}

function sameValue(value: Scalar, wanted: string): boolean {
  if (typeof value === 'number') return wanted.trim() !== '' && Number(wanted) === value;
  return String(value) === wanted;
}

function leafFields(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([key, item]) =>
    Array.isArray(item) ? [] : leafFields(item, prefix ? `${prefix}.${key}` : key),
  );
}
