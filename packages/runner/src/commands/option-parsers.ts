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
