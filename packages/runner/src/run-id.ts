import { createHash } from 'node:crypto';
import type { RunConfig, TrainingConfig } from '@prunefuse/results';

/**
 * Fields of a RunConfig that do not change what a run computes, so they are left out of
 * its id:
 * - experiment: the same point in two experiment files is the same run;
 * - dataset.dataDir: where the files live, not what they contain;
 * - backend: the engine that runs it (recorded with every result in its environment);
 *   a killed sweep resumed with another --backend, or with 'auto' on the same machine,
 *   must find its finished runs.
 */
export const FIELDS_OUTSIDE_RUN_ID = ['experiment', 'dataset.dataDir', 'backend'] as const;

/**
 * Training fields added after stores were first written, with the value every run had
 * before the field existed. A training config holding that value hashes as if the field
 * were absent, so existing runs keep their ids whether or not a config spells it out.
 */
export const TRAINING_FIELDS_ADDED_LATER = { nesterov: false } as const satisfies Partial<
  Record<keyof TrainingConfig, unknown>
>;

/**
 * A run's id: the first 12 hex digits of the SHA-256 of the canonical JSON (keys sorted,
 * no whitespace) of its resolved config without FIELDS_OUTSIDE_RUN_ID, without
 * TRAINING_FIELDS_ADDED_LATER at their old values, and without dataset.dataSeed when the
 * run uses whole splits. It depends only on resolved values,
 * never on YAML formatting, key order or how a value was written ('10%' or 200, 0.50 or 0.5).
 */
export function runId(config: RunConfig): string {
  const hashed = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const field of FIELDS_OUTSIDE_RUN_ID) {
    const [head, tail] = field.split('.') as [string, string | undefined];
    if (tail === undefined) delete hashed[head];
    else delete hashed[head]![tail];
  }
  // Without a subset the data seed draws nothing: runs on the whole split share their ids.
  const dataset = hashed.dataset!;
  if (dataset.trainSubset === null && dataset.testSubset === null) delete dataset.dataSeed;
  const trainings = [hashed.selectorTraining, hashed.targetTraining, hashed.method?.proxyTraining];
  for (const training of trainings) {
    if (training === undefined) continue;
    for (const [field, old] of Object.entries(TRAINING_FIELDS_ADDED_LATER)) {
      const values = training as Record<string, unknown>;
      if (values[field] === old) delete values[field];
    }
  }
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex').slice(0, 12);
}

/** JSON with object keys in sorted order at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : item,
  );
}
