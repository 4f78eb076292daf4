import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * Reads a JSON file and validates it, with errors that name the file and the field:
 * `baselines/quick.json: not a valid regression baseline: entries[3].accuracyPct:
 * expected number, received string`.
 */
export function readJsonFile<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `${file}: cannot read ${what} (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${fieldPath(issue.path)}: ${issue.message}`,
    );
    throw new Error(`${file}: not a valid ${what}:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** `entries[3].accuracyPct`, as a user would write it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
}
