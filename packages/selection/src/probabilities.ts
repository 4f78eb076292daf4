/**
 * Checks that `probabilities` is a row-major [rows, classes] matrix and returns the row
 * count. NaN rows are refused here because a NaN score would silently sort anywhere.
 */
export function probabilityRows(
  probabilities: Float32Array,
  classes: number,
  minClasses: number,
): number {
  if (!Number.isInteger(classes) || classes < minClasses) {
    throw new RangeError(`classes must be an integer >= ${minClasses}, got ${classes}`);
  }
  if (probabilities.length % classes !== 0) {
    throw new RangeError(
      `probabilities has ${probabilities.length} values, not a whole number of rows of ${classes} classes`,
    );
  }
  const nan = probabilities.findIndex((p) => Number.isNaN(p));
  if (nan >= 0) {
    throw new RangeError(
      `probability of row ${Math.floor(nan / classes)} class ${nan % classes} is NaN; ` +
        'the scoring model produced non-finite outputs (did its training diverge?)',
    );
  }
  return probabilities.length / classes;
}
