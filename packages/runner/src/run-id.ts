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
  return digest(hashedConfig(config));
}

/**
 * The id of a run's selection phase (what its rounds label and the selectors they train,
 * θp* included): the digest of its hashed config without what only the target depends
 * on. Runs sharing it select alike, so one replays the phase another stored (see the
 * loop's SelectionMemo):
 * - targetTraining, and PruneFuse's fusion, kd, kdLambda, kdTemperature and fill;
 * - budget.milestones, which only say where targets are built: the rounds grow by
 *   roundSize from the initial set either way, and a run whose rounds part from the
 *   stored ones (a round cut short by a milestone) computes from there on;
 * - rankAgreement, a measurement beside the selection.
 * Null for methods that select without a selector (random, full): nothing to replay.
 */
export function selectionId(config: RunConfig): string | null {
  if (config.method.name === 'random' || config.method.name === 'full') return null;
  const hashed = hashedConfig(config);
  delete hashed.targetTraining;
  delete hashed.rankAgreement;
  delete hashed.budget!.milestones;
  if (config.method.name === 'prunefuse') {
    for (const field of ['fusion', 'kd', 'kdLambda', 'kdTemperature', 'fill']) {
      delete hashed.method![field];
    }
  }
  return digest({ selection: hashed });
}

/** The config as its id hashes it (see runId). */
function hashedConfig(config: RunConfig): Record<string, Record<string, unknown>> {
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
  return hashed;
}

function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 12);
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
