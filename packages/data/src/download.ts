import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** The subset of the global fetch a download needs; injectable so tests need no network. */
export type FetchFunction = (url: string) => Promise<Response>;

export interface RemoteFile {
  url: string;
  /** The MD5 the dataset's authors publish for the file, lower-case hex. */
  md5: string;
}

/** The network could not deliver the file (no route, DNS failure, HTTP error, cut stream). */
export class DownloadError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot download ${url} (${reason})`);
    this.name = 'DownloadError';
  }
}

/** Why fetch failed, in a few words: undici hides the system error (ENOTFOUND, ECONNREFUSED) in `cause`. */
function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const message = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : null;
  if (code && message) return message.includes(code) ? message : `${code}: ${message}`;
  return code ?? message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Streams `remote` to `dest`, hashing as it goes, and moves it into place only when its
 * MD5 matches: a partial or corrupt download never lands under the final name.
 */
export async function downloadVerified(
  remote: RemoteFile,
  dest: string,
  fetchFile: FetchFunction,
  onProgress: (line: string) => void = () => {},
): Promise<{ bytes: number }> {
  let response: Response;
  try {
    response = await fetchFile(remote.url);
  } catch (error) {
    throw new DownloadError(remote.url, failureReason(error));
  }
  if (!response.ok || !response.body) {
    throw new DownloadError(remote.url, `HTTP ${response.status} ${response.statusText}`.trim());
  }
  const total = Number(response.headers.get('content-length')) || null;
  const hash = createHash('md5');
  const partial = `${dest}.part`;
  let bytes = 0;
  let reported = 0;
  const body = response.body;
  onProgress(`downloading ${remote.url}${total ? ` (${(total / 1e6).toFixed(1)} MB)` : ''}`);
  try {
    await pipeline(async function* () {
      for await (const chunk of body) {
        hash.update(chunk);
        bytes += chunk.length;
        if (total && bytes - reported >= total / 10) {
          reported = bytes;
          onProgress(`  ${Math.round((100 * bytes) / total)}% of ${remote.url}`);
        }
        yield chunk;
      }
    }, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw new DownloadError(remote.url, `transfer failed: ${failureReason(error)}`);
  }
  const md5 = hash.digest('hex');
  if (md5 !== remote.md5) {
    await rm(partial, { force: true });
    throw new Error(
      `checksum mismatch: ${remote.url} gave ${bytes} bytes with md5 ${md5}, expected ${remote.md5}; ` +
        'the download is damaged or the file has changed upstream',
    );
  }
  await rename(partial, dest);
  onProgress(`verified md5 ${md5} of ${dest}`);
  return { bytes };
}
