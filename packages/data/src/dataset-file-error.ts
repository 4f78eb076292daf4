/**
 * A dataset file that cannot be used, with the file and the fault, so that the message
 * alone tells a user what to replace. Loaders throw it before any split is returned:
 * nothing trains on a half-read or mislabelled file.
 */
export class DatasetFileError extends Error {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
    this.name = 'DatasetFileError';
  }
}
