import type { Split } from '../dataset.js';

/** What a reader hands back: both splits (already narrowed to the run's subsets) and their names. */
export interface ReadResult {
  train: Split;
  test: Split;
  classNames: readonly string[];
  /** Where the files were read from. */
  source: string;
}
