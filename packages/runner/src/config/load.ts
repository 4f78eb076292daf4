import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { type ExperimentFile, experimentFileSchema } from './schema.js';
import { ConfigError, ConfigSource } from './source.js';

export interface LoadedExperiment {
  /** The experiment's name: its `experiment` field or the file's stem. */
  name: string;
  file: ExperimentFile;
  source: ConfigSource;
}

/** Reads and validates an experiment file; every problem is reported at once. */
export function readExperiment(file: string): LoadedExperiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`${file}: cannot read the config (${(error as Error).message})`]);
  }
  return parseExperiment(file, text);
}

export function parseExperiment(file: string, text: string): LoadedExperiment {
  const source = ConfigSource.parse(file, text);
  const parsed = experimentFileSchema.safeParse(source.value);
  if (!parsed.success) throw new ConfigError(file, problemsOf(source, parsed.error));
  const name = parsed.data.experiment ?? path.basename(file).replace(/\.ya?ml$/, '');
  return { name, file: parsed.data, source };
}

function problemsOf(source: ConfigSource, error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    // Zod paths may hold symbols in general; a YAML document's never do.
    const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
    return issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) =>
          source.problem([...path, key], `unknown field; ${issue.message}`, 'key'),
        )
      : [source.mismatch(path, issue.message)];
  });
}
