// A local folder as a settlement source (sandbox, demo, or files dropped by another transfer tool).
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../shared/errors.js';
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
      if (!e.isFile()) continue;
      const p = path.join(this.dir, e.name);
      const s = await stat(p);
      files.push({ name: e.name, path: e.name, size: s.size, modifiedAt: s.mtime });
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async download(file: RemoteFile, destPath: string, signal: AbortSignal): Promise<Downloaded> {
    const progress = freshProgress();
    try {
      await appendStream(createReadStream(path.join(this.dir, file.path)), destPath, progress, signal);
    } catch (e) {
      throw new SourceError(`cannot copy ${file.path} from ${this.description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return { size: progress.bytes, sha256: progress.hash.digest('hex') };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
