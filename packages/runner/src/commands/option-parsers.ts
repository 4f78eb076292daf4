import { InvalidArgumentError } from 'commander';

/** Commander parser for options that take a positive integer (counts, sizes). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

/** Commander parser for options that take a positive number (times, tolerances). */
export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

/** Commander parser for a channel pruning ratio, in [0, 1). */
export function parsePruneRatio(value: string): number {
  const p = Number(value);
  if (!(value.trim() !== '' && p >= 0 && p < 1)) {
    throw new InvalidArgumentError(`expected a pruning ratio in [0, 1), got '${value}'`);
  }
  return p;
}

/** Commander parser for a weight or fraction in [0, 1]. */
export function parseUnitInterval(value: string): number {
  const x = Number(value);
  if (!(value.trim() !== '' && x >= 0 && x <= 1)) {
    throw new InvalidArgumentError(`expected a number in [0, 1], got '${value}'`);
  }
  return x;
}
