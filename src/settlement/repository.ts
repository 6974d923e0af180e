// Read-side queries over the file registry (settlement_files) used to decide what to fetch.
import type { Db } from '../db/connect.js';

/** "remote path \0 size" of every file of the provider seen before, whatever its status. */
export async function seenFiles(
  db: Db,
  provider: string,
  remotePaths: readonly string[],
): Promise<Set<string>> {
  if (remotePaths.length === 0) return new Set();
  const rows = await db
    .selectFrom('settlement_files')
    .select(['remote_path', 'size'])
    .where('provider', '=', provider)
    .where('remote_path', 'in', remotePaths)
    .execute();
  return new Set(rows.map((r) => seenKey(r.remote_path, r.size)));
}

export function seenKey(remotePath: string, size: number): string {
  return `${remotePath}\u0000${size}`;
}
