// Streams bytes into a file while hashing them, then fsyncs: the one writer every source uses.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface WriteProgress {
  hash: Hash;
  /** Bytes in the file so far (the hash covers exactly these). */
  bytes: number;
}

/** Starts (or restarts) a download: an empty file and a fresh hash. */
export function freshProgress(): WriteProgress {
  return { hash: createHash('sha256'), bytes: 0 };
}

/**
 * Resumes after a failed attempt: re-hashes what actually reached the disk, because bytes hashed in memory may
 * not all have been written when the connection dropped.
 */
export async function progressFromDisk(path: string): Promise<WriteProgress> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { hash, bytes };
}

/**
 * Appends `src` to `path` at `progress.bytes`, hashing as it goes; fsyncs before returning. `onChunk` sees each
 * chunk as it is written (a 'data' listener instead would start the stream flowing before this loop reads it, and
 * the chunks emitted meanwhile would be lost).
 */
export async function appendStream(
  src: Readable,
  path: string,
  progress: WriteProgress,
  signal: AbortSignal,
  onChunk?: (bytes: number) => void,
): Promise<void> {
  // A source stream that fails before it is read (its file gone, say) while the destination cannot be opened either
  // must not crash the process with an 'error' nobody listens to: the loop below still sees every error it reads.
  src.on('error', () => undefined);
  const fh = await open(path, progress.bytes === 0 ? 'w' : 'r+').catch((e: unknown) => {
    src.destroy();
    throw e;
  });
  const onAbort = () => src.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) onAbort();
    for await (const chunk of src as AsyncIterable<Buffer>) {
      await fh.write(chunk, 0, chunk.length, progress.bytes);
      progress.hash.update(chunk);
      progress.bytes += chunk.length;
      onChunk?.(chunk.length);
    }
    await fh.truncate(progress.bytes);
    await fh.sync();
  } finally {
    signal.removeEventListener('abort', onAbort);
    await fh.close();
  }
}
