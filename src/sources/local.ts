// A local folder as a settlement source (sandbox, demo, or files dropped by another transfer tool).
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, FileUnavailableError, SourceError } from '../shared/errors.js';
import type { Downloaded, RemoteFile, SettlementSource } from './types.js';
import { appendStream, freshProgress } from './write-file.js';

export class LocalFolderSource implements SettlementSource {
  readonly parallelism = 1;
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = path.resolve(dir);
  }

  async list(): Promise<RemoteFile[]> {
    let entries;
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (e) {
      throw new SourceError(`cannot read settlement folder ${this.description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const files: RemoteFile[] = [];
    for (const e of entries) {
      const link = e.isSymbolicLink();
      if (!e.isFile() && !link) continue;
      const p = path.join(this.dir, e.name);
      // A symbolic link is read through, as on SFTP: the file it leads to, with that file's size and time. One that
      // leads nowhere (or round in a loop) is listed as unavailable, so the fetch reports it and takes it again.
      const s = await stat(p).catch((err: unknown) => {
        const code = errorCode(err);
        if (link && (code === 'ENOENT' || code === 'ELOOP')) return 'a symbolic link that leads nowhere';
        if (link && (code === 'EACCES' || code === 'EPERM'))
          return 'a symbolic link to a file payrecon may not see (permission denied)';
        // Removed between the folder's listing and this look: as if listed a moment later.
        if (code === 'ENOENT') return null;
        throw err;
      });
      if (s === null) continue;
      if (typeof s === 'string') {
        files.push({ name: e.name, path: e.name, size: 0, modifiedAt: null, unavailable: s });
        continue;
      }
      if (!s.isFile()) continue; // a link to a folder, like the folders beside the files
      files.push({ name: e.name, path: e.name, size: s.size, modifiedAt: s.mtime });
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async download(file: RemoteFile, destPath: string, signal: AbortSignal): Promise<Downloaded> {
    const progress = freshProgress();
    const src = await this.openFile(file);
    try {
      await appendStream(src.createReadStream(), destPath, progress, signal);
    } catch (e) {
      throw new SourceError(`cannot copy ${file.path} from ${this.description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return { size: progress.bytes, sha256: progress.hash.digest('hex') };
  }

  /** The listed file, opened; one gone or unreadable since the listing is that file's problem, not the folder's. */
  private async openFile(file: RemoteFile): Promise<FileHandle> {
    const p = path.join(this.dir, file.path);
    try {
      return await open(p, 'r');
    } catch (e) {
      const code = errorCode(e);
      const reason =
        code === 'ENOENT'
          ? 'listed, but gone when copied (removed or renamed since)'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied reading it; let the user payrecon runs as read it'
            : null;
      if (reason === null)
        throw new SourceError(`cannot copy ${file.path} from ${this.description}: ${(e as Error).message}`, {
          cause: e,
        });
      throw new FileUnavailableError(`${p}: ${reason}`, reason, { cause: e });
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
