/**
 * A labelling budget as a count of examples: a whole number >= 1 is a count (1000, '1000'),
 * a number strictly between 0 and 1 a fraction (0.1, '0.1'), and 'P%' a percentage
 * ('10%', '100%'), both of `trainSize` and rounded to the nearest example. A count of
 * 1 means one example; the whole split is '100%'.
 */
export function resolveBudget(spec: number | string, trainSize: number): number {
  const source = typeof spec === 'string' ? `'${spec}'` : String(spec);
  function fail(why: string): never {
    throw new RangeError(`budget ${source}: ${why}`);
  }
  let count: number;
  const text = typeof spec === 'string' ? spec.trim() : null;
  if (text?.endsWith('%')) {
    const percent = Number(text.slice(0, -1));
    if (text.length === 1 || !Number.isFinite(percent)) fail("expected a number before '%'");
    if (percent <= 0 || percent > 100) fail('a percentage must be above 0 and at most 100');
    count = Math.round((percent / 100) * trainSize);
  } else {
    const value = text === null ? (spec as number) : text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value))
      fail("expected a count (1000), a fraction (0.1) or a percentage ('10%')");
    if (value <= 0) fail('must be positive');
    if (value < 1) count = Math.round(value * trainSize);
    else if (Number.isInteger(value)) count = value;
    else count = fail('a count must be a whole number (fractions lie between 0 and 1)');
  }
  if (count < 1) fail(`is less than one example of the ${trainSize}-example training split`);
  if (count > trainSize) fail(`${count} exceeds the ${trainSize}-example training split`);
  return count;
}
