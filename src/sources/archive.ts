// Downloads a remote file into the archive: a temporary name first, renamed only when complete, checksummed and
// fsynced. The final name carries the content hash, so a correction under the same remote name never overwrites
// the version it replaces.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../shared/errors.js';
import { unsafeNameReason } from './names.js';
import type { RemoteFile, SettlementSource } from './types.js';

export interface ArchivedFile {
  path: string;
  size: number;
  sha256: string;
}

/** The temporary name a download is written under. */
export const PART_NAME = /^\..+\.[0-9a-f]{12}\.part$/;

export async function downloadToArchive(
  source: SettlementSource,
  file: RemoteFile,
  archiveDir: string,
  signal: AbortSignal,
): Promise<ArchivedFile> {
  // Queued behind other downloads when the fetch was stopped: nothing more is read from the source.
  signal.throwIfAborted();
  const unsafe = unsafeNameReason(file.name);
  if (unsafe) throw new SourceError(`refusing remote file: ${unsafe}`);
  await mkdir(archiveDir, { recursive: true });
  const temp = path.join(archiveDir, `.${file.name}.${randomBytes(6).toString('hex')}.part`); // see PART_NAME
  try {
    const got = await source.download(file, temp, signal);
    const final = path.join(archiveDir, `${got.sha256.slice(0, 16)}_${file.name}`);
    await rename(temp, final);
    await fsyncDir(archiveDir);
    return { path: final, size: got.size, sha256: got.sha256 };
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** Makes the rename itself durable. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
