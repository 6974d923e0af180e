// Read-side queries over the file registry (settlement_files) used to decide what to fetch.
import type { Db } from '../db/connect.js';

/** What the listing says of a file, which is all that is known of it before it is downloaded. */
export interface ListedFile {
  path: string;
  size: number;
  modifiedAt: Date | null;
}

/**
 * Keys (see `seenKey`) of every file of the provider seen before under one of the listed paths, whatever its
 * status: (path, size) for every row, and (path, size, modification time) for rows that recorded one; each path
 * alone (`seenPathKey`); and (path, modification time) for rows that recorded one (`seenTimeKey`).
 */
export async function seenFiles(
  db: Db,
  provider: string,
  remotePaths: readonly string[],
): Promise<Set<string>> {
  if (remotePaths.length === 0) return new Set();
  const rows = await db
    .selectFrom('settlement_files')
    .select(['remote_path', 'size', 'remote_modified_at'])
    .where('provider', '=', provider)
    .where('remote_path', 'in', remotePaths)
    .execute();
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(seenPathKey(r.remote_path));
    seen.add(seenKey({ path: r.remote_path, size: r.size, modifiedAt: null }));
    if (r.remote_modified_at) {
      seen.add(seenKey({ path: r.remote_path, size: r.size, modifiedAt: r.remote_modified_at }));
      seen.add(seenTimeKey(r.remote_path, r.remote_modified_at));
    }
  }
  return seen;
}

/**
 * A listed file is seen when a row has its path, size and modification time: a correction that keeps the byte
 * size still comes with a new time. A row without a time (loaded before times were recorded) does not count for a
 * file listed with one, which is then downloaded and hashed once; only when the source reports no time are path
 * and size all there is to compare.
 */
export function seenKey(file: ListedFile): string {
  const key = `${file.path}\u0000${file.size}`;
  return file.modifiedAt ? `${key}\u0000${file.modifiedAt.getTime()}` : key;
}

/** Some file was recorded under this path: for a listed file whose size and time are unknown (unavailable). */
export function seenPathKey(remotePath: string): string {
  return `${remotePath}\u0000`;
}

/**
 * Some file was recorded under this path with this modification time: for a source whose listed sizes are not to be
 * trusted (`sftp.checkListedSize: false`), where the size recorded (the bytes served) need not be the size listed.
 */
export function seenTimeKey(remotePath: string, modifiedAt: Date): string {
  return `${remotePath}\u0000\u0000${modifiedAt.getTime()}`;
}
