// Loads one downloaded settlement file. Everything about the file (its settlement_files row, its lines, its
// rejected lines, and the supersession of an earlier version) commits in ONE transaction, so a crash or a
// rejected trailer never leaves half a file behind. Identity (provider, remote_path, size, sha256) is enforced by
// the table's unique constraint; an advisory lock per remote path serialises two runs loading the same name.
import type pg from 'pg';
import { DatabaseError } from '../shared/errors.js';
import { maskCardNumbers } from '../shared/card-mask.js';
import { CopySink, mayElideFileCheck } from './copy-sink.js';
import { FileRejectedError } from './errors.js';
import { parseSettlementFile } from './parse.js';
import type { ResolvedProfile } from './profiles/types.js';

export interface LoadInput {
  provider: string;
  remotePath: string;
  fileName: string;
  size: number;
  sha256: string;
  /** As the source listed the file (null or absent when it reports none): what the next fetch compares. */
  modifiedAt?: Date | null;
  /** From the file name; when null the earliest line date is recorded. */
  settlementDate: string | null;
  /** The downloaded (archived) copy that is parsed. */
  localPath: string;
  profile: ResolvedProfile;
  runId: number | null;
  /**
   * The run's stop signal: a file is read chunk by chunk, and a stop inside it rolls the whole file back (nothing
   * of it recorded, so the next fetch loads it again) instead of reading gigabytes to the end first.
   */
  signal?: AbortSignal;
}

export interface LoadOutcome {
  status: 'loaded' | 'corrected' | 'duplicate' | 'rejected';
  fileId: number;
  lineCount: number;
  loaded: number;
  rejected: number;
  reason?: string;
  /** The earlier version this file replaced (status 'corrected'). */
  supersededFileId?: number;
  /** A loaded file with the same bytes under another name (status 'duplicate'): this one was not loaded again. */
  copyOfFileId?: number;
}

const FILE_COLUMNS = `provider, remote_path, file_name, size, sha256, settlement_date, archive_path, profile, run_id,
  remote_modified_at`;

export async function loadSettlementFile(pool: pg.Pool, input: LoadInput): Promise<LoadOutcome> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `settlement:${input.provider}:${input.remotePath}`,
    ]);
    // A file loaded (or found loaded) under this path is no longer left for the next fetch, as of this commit: a
    // fetch that fails after it must not leave a stored left file behind that holds movements awaiting.
    await client.query(`delete from settlement_files_left where provider = $1 and remote_path = $2`, [
      input.provider,
      input.remotePath,
    ]);
    const same = await client.query<{
      id: number;
      status: string;
      reject_reason: string | null;
      line_count: number;
      loaded_count: number;
      rejected_count: number;
    }>(
      `select id, status, reject_reason, line_count, loaded_count, rejected_count from settlement_files
       where provider = $1 and remote_path = $2 and size = $3 and sha256 = $4`,
      [input.provider, input.remotePath, input.size, input.sha256],
    );
    const found = same.rows[0];
    // A file refused whole is read again whenever it is fetched: the profile or the encoding may have been mended
    // since, and refused again, the run says so again. Its row becomes the loaded file, or stays the refusal.
    // A version superseded since, delivered again (a correction withdrawn), is the file's content now: its row is
    // loaded again and replaces the version loaded meanwhile, as any correction does.
    const retried = found?.status === 'rejected' || found?.status === 'superseded' ? found.id : null;
    if (found && retried === null) {
      // The row with these bytes takes the time they were listed with now, so the next fetch knows the file without
      // downloading it again: a row loaded before times were recorded, or the same bytes delivered again.
      if (input.modifiedAt)
        await client.query(
          `update settlement_files set remote_modified_at = $2
           where id = $1 and remote_modified_at is distinct from $2`,
          [found.id, input.modifiedAt],
        );
      await client.query('commit');
      return {
        status: 'duplicate',
        fileId: found.id,
        lineCount: found.line_count,
        loaded: 0,
        rejected: 0,
        reason: `already ${found.status}`,
      };
    }
    // The same bytes under another name (a re-delivery under a new name) would count every line twice. Only a file
    // with lines: two days without activity may well send identical header-only files.
    const copy = await client.query<{ id: number; file_name: string }>(
      `select id, file_name from settlement_files
       where provider = $1 and sha256 = $2 and size = $3 and status = 'loaded' and line_count > 0
       order by id limit 1`,
      [input.provider, input.sha256, input.size],
    );
    const original = copy.rows[0];
    if (original) {
      await client.query('commit');
      return {
        status: 'duplicate',
        fileId: original.id,
        lineCount: 0,
        loaded: 0,
        rejected: 0,
        reason: `same content as ${original.file_name} (file ${original.id}), already loaded: not loaded again`,
        copyOfFileId: original.id,
      };
    }
    const pred = await client.query<{ id: number }>(
      `select id from settlement_files
       where provider = $1 and remote_path = $2 and status <> 'superseded' and id <> coalesce($3, 0)
       order by id desc limit 1`,
      [input.provider, input.remotePath, retried],
    );
    const predecessor = pred.rows[0]?.id;
    const inserted = await client.query<{ id: number }>(
      retried === null
        ? `insert into settlement_files (${FILE_COLUMNS}, status, supersedes_file_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'loaded', $11) returning id`
        : `update settlement_files set (${FILE_COLUMNS}, status, supersedes_file_id, reject_reason)
             = ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'loaded', $11, null)
           where id = $12 returning id`,
      [...fileValues(input), predecessor ?? null, ...(retried === null ? [] : [retried])],
    );
    const fileId = inserted.rows[0]!.id;

    const sink = new CopySink(client, fileId, input.provider, await mayElideFileCheck(client));
    let result;
    try {
      result = await parseSettlementFile(
        {
          path: input.localPath,
          name: input.fileName,
          profile: input.profile,
          fileDate: input.settlementDate,
          ...(input.signal ? { signal: input.signal } : {}),
        },
        sink,
      );
      await sink.finish();
    } catch (e) {
      // On a dead connection the rollback fails too: the error to report is still the one that stopped the load.
      const undone = await sink
        .abort()
        .then(() => client.query('rollback'))
        .then(
          () => null,
          (r: unknown) => (r instanceof Error ? r : new Error(String(r))),
        );
      if (e instanceof FileRejectedError) {
        if (undone !== null) throw undone; // the file could not be recorded as refused: a database failure
        return await recordRejected(client, input, e.message);
      }
      throw e;
    }

    if (predecessor !== undefined) {
      // Lines of a superseded file do not exist (matching.md): delete them; the row stays as history.
      await client.query(`delete from settlement_lines where file_id = $1`, [predecessor]);
      await client.query(`delete from rejected_lines where file_id = $1`, [predecessor]);
      await client.query(`update settlement_files set status = 'superseded' where id = $1`, [predecessor]);
    }
    await client.query(
      `update settlement_files set line_count = $2, loaded_count = $3, rejected_count = $4,
         settlement_date = coalesce(settlement_date, (select min(settlement_date) from settlement_lines where file_id = $1))
       where id = $1`,
      [fileId, result.lineCount, result.loaded, result.rejected],
    );
    await summarizeNewRanges(client);
    await client.query('commit');
    return {
      status: predecessor !== undefined ? 'corrected' : 'loaded',
      fileId,
      lineCount: result.lineCount,
      loaded: result.loaded,
      rejected: result.rejected,
      ...(predecessor !== undefined ? { supersededFileId: predecessor } : {}),
    };
  } catch (e) {
    broken = true;
    await client.query('rollback').catch(() => undefined);
    // A stop is the run's to report (what stopped it), not a database failure of this file.
    if (e instanceof FileRejectedError || (input.signal?.aborted && e === input.signal.reason)) throw e;
    throw new DatabaseError(`loading settlement file ${input.remotePath} failed: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    client.release(broken ? true : undefined);
  }
}

/**
 * settlement_lines is found by file and by date through a BRIN index (migration 20261121071500), and a block
 * range that is not summarised yet is read by every query that uses it: summarise the ranges this load filled
 * now (one pass over the file's new pages, still in memory) instead of leaving them to autovacuum. Inside the
 * transaction, the pass sees our own uncommitted rows and sets no hint bits (after the commit it dirtied every
 * new page again: +40% WAL). Best effort: when the user may not do it or the lock is taken, the vacuum before
 * matching will (migration 20261121130000), and queries stay correct meanwhile.
 */
async function summarizeNewRanges(client: pg.PoolClient): Promise<void> {
  // Summarising takes the table's SHARE UPDATE EXCLUSIVE lock (until commit), which autovacuum and auto-analyze
  // hold too, and so does another file's load while it summarises. Never wait for it: the holder summarises or the
  // vacuum before matching will. Waiting behind auto-analyze cost up to a second per file in a month's load.
  // Loads summarise one at a time, by an advisory lock that a load skips when another holds it, and a lock held by
  // anyone else is seen before asking for it: a month's load used to log four to six "canceling statement due to
  // lock timeout" in the server's log, each a load that met another. lock_timeout catches a lock taken in between.
  const free = await client.query<{ free: boolean }>(
    `select pg_try_advisory_xact_lock(hashtextextended('settlement:summarize', 0)) and not exists (
       select 1 from pg_locks
       where locktype = 'relation' and relation = 'settlement_lines'::regclass and pid <> pg_backend_pid()
         and database = (select oid from pg_database where datname = current_database())
         and mode in ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                      'AccessExclusiveLock')
     ) as free`,
  );
  if (free.rows[0]?.free !== true) return;
  await client.query('savepoint payrecon_summarize');
  try {
    await client.query(`set local lock_timeout = '10ms'`);
    await client.query(`select brin_summarize_new_values('settlement_lines_file_date_idx'::regclass)`);
    await client.query('set local lock_timeout to default');
    await client.query('release savepoint payrecon_summarize');
  } catch {
    await client.query('rollback to savepoint payrecon_summarize');
  }
}

function fileValues(input: LoadInput): unknown[] {
  return [
    input.provider,
    input.remotePath,
    input.fileName,
    input.size,
    input.sha256,
    input.settlementDate,
    input.localPath,
    input.profile.name,
    input.runId,
    input.modifiedAt ?? null,
  ];
}

/** Longest reason kept for a file refused whole; the file itself is in the archive. */
const MAX_REASON = 1000;

/**
 * The reason as PostgreSQL text can hold it and a log line can carry it. Reasons quote the file (its header), and a
 * file refused for being unreadable is exactly one that may hold NUL characters (UTF-16 read as UTF-8) or be one
 * huge line (CR line ends): stored as is, the insert itself failed and took the whole fetch down with it.
 */
function storableReason(reason: string): string {
  // A quoted "header" may be data lines (no header, CR line ends), and a line may hold a card number.
  const visible = maskCardNumbers(reason).replaceAll('\u0000', '\\0');
  return visible.length > MAX_REASON ? visible.slice(0, MAX_REASON - 1) + '…' : visible;
}

/** A file rejected whole: recorded, with nothing of it loaded, and reported by every fetch that reads it again. */
async function recordRejected(client: pg.PoolClient, input: LoadInput, why: string): Promise<LoadOutcome> {
  const reason = storableReason(why);
  await client.query('begin');
  const r = await client.query<{ id: number }>(
    `insert into settlement_files (${FILE_COLUMNS}, status, reject_reason)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'rejected', $11)
     on conflict (provider, remote_path, size, sha256) do update set reject_reason = excluded.reject_reason,
       run_id = excluded.run_id, profile = excluded.profile,
       remote_modified_at = coalesce(excluded.remote_modified_at, settlement_files.remote_modified_at)
     returning id`,
    [...fileValues(input), reason],
  );
  await client.query('commit');
  return { status: 'rejected', fileId: r.rows[0]!.id, lineCount: 0, loaded: 0, rejected: 0, reason };
}
