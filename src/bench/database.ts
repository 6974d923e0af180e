// The database a benchmark script measures against: $BENCH_DATABASE_URL when set (migrated by the script; it deletes
// its rows after), otherwise an embedded PostgreSQL of its own in a temporary folder, stopped and removed by close().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbedded } from '../db/embedded.js';
import { freePort } from '../shared/free-port.js';

export interface BenchDatabase {
  url: string;
  /** A temporary folder for the script's files, removed by close(). */
  tmp: string;
  close(): Promise<void>;
}

export async function benchDatabase(
  prefix: string,
  settings: Record<string, string> = {},
): Promise<BenchDatabase> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  const external = process.env.BENCH_DATABASE_URL;
  if (external) return { url: external, tmp, close: () => Promise.resolve(removeTmp()) };
  const dataDir = path.join(tmp, 'pg');
  try {
    const embedded = await startEmbedded({ dataDir, port: await freePort(), settings });
    return {
      url: embedded.url,
      tmp,
      async close() {
        await embedded.stop();
        removeTmp();
      },
    };
  } catch (e) {
    removeTmp();
    throw e;
  }
}
