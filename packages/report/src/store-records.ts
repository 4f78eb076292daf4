import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResultsStore, type RunRecord } from '@prunefuse/results';

/**
 * The finished runs of a results store, read without side effects: `ResultsStore.open`
 * creates the store's directories, which would turn a mistyped path into an empty
 * report or a check where everything is "missing", and would write into a store that a
 * report only reads. So the store must already exist and hold at least one run.
 */
export function readStoreRecords(storeDir: string): RunRecord[] {
  if (!existsSync(path.join(storeDir, 'runs'))) {
    throw new Error(`${storeDir}: not a results store (no runs/ directory)`);
  }
  const records = new ResultsStore(storeDir).records();
  if (records.length === 0) throw new Error(`${storeDir}: the store holds no finished runs`);
  return records;
}
