// The settlement files the last fetch of each provider listed and left for the next fetch (`retryNextFetch`: gone
// or unreadable, modified too recently, not the size listed). Matching holds the movements such a file could settle
// awaiting (src/reconcile/held.ts); stored here, a match without a fetch of its own holds them too.
import { sql } from 'kysely';
import type { ProviderName } from '../config/schema.js';
import type { Db } from '../db/connect.js';

/** A file a fetch left, as the fetch reported it. */
export interface LeftFile {
  remotePath: string;
  name: string;
  settlementDate: string | null;
  reason: string;
}

/** A stored left file, in the shape matching takes (reconcile/types.ts UnloadedSettlementFile). */
export interface StoredLeftFile {
  provider: ProviderName;
  settlementDate: string | null;
  file: string;
  reason: string;
}

/**
 * Replaces the provider's stored left files by `files`, the set one complete fetch of it left, in one transaction:
 * a file this fetch loaded or no longer lists goes, one it left again keeps its first_listed_at and takes this
 * listing's time, reason and run. Another provider's rows are not touched. Repeating it is harmless.
 */
export async function replaceLeftFiles(
  db: Db,
  provider: ProviderName,
  files: readonly LeftFile[],
  listedAt: Date,
  runId: number | null,
): Promise<void> {
  // One row per path (a listing names a path once; should one not, the first report of it stands).
  const byPath = new Map<string, LeftFile>();
  for (const f of files) if (!byPath.has(f.remotePath)) byPath.set(f.remotePath, f);
  const rows = [...byPath.values()];
  const paths = rows.map((f) => f.remotePath);
  await db.transaction().execute(async (trx) => {
    await sql`
      delete from settlement_files_left
      where provider = ${provider} and remote_path <> all(${paths}::text[])`.execute(trx);
    if (rows.length === 0) return;
    await sql`
      insert into settlement_files_left
        (provider, remote_path, file_name, settlement_date, reason, first_listed_at, listed_at, run_id)
      select ${provider}, f.path, f.name, f.d, f.reason, ${listedAt}::timestamptz, ${listedAt}::timestamptz,
        ${runId}::bigint
      from unnest(${paths}::text[], ${rows.map((f) => f.name)}::text[],
        ${rows.map((f) => f.settlementDate)}::date[], ${rows.map((f) => f.reason)}::text[]) as f(path, name, d, reason)
      on conflict (provider, remote_path) do update set
        file_name = excluded.file_name, settlement_date = excluded.settlement_date, reason = excluded.reason,
        listed_at = excluded.listed_at, run_id = excluded.run_id`.execute(trx);
  });
}

/** The stored left files of `providers`, each provider's from its last complete fetch (minus those loaded since). */
export async function storedLeftFiles(db: Db, providers: readonly ProviderName[]): Promise<StoredLeftFile[]> {
  if (providers.length === 0) return [];
  const rows = await db
    .selectFrom('settlement_files_left')
    .select(['provider', 'settlement_date', 'file_name', 'reason'])
    .where('provider', 'in', providers)
    .orderBy('provider')
    .orderBy('settlement_date')
    .orderBy('file_name')
    .execute();
  return rows.map((r) => ({
    // Selected by these providers only.
    provider: r.provider as ProviderName,
    settlementDate: r.settlement_date,
    file: r.file_name,
    reason: r.reason,
  }));
}
