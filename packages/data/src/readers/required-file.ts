import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DatasetFileError } from '../dataset-file-error.js';

/**
 * The bytes of a file a dataset cannot do without. A missing file says what the folder
 * should hold (`hint`), since a wrong --data-dir is the usual cause.
 */
export async function readRequiredFile(file: string, hint: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetFileError(file, `missing; ${hint}`);
    if (code === 'EISDIR')
      throw new DatasetFileError(file, `is a folder, expected a file; ${hint}`);
    throw new DatasetFileError(file, `cannot be read (${(error as Error).message})`);
  }
}

export function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DatasetFileError(file, `not a complete gzip stream (${(error as Error).message})`);
  }
}
