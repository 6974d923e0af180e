import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from './connect.js';
import { LockHeldError } from '../shared/errors.js';

// Session-level advisory locks, each on a dedicated connection, so a lock is released when its process dies,
// however it dies.

/** Every run, manual or scheduled, and every stage command that writes run data: one at a time. */
export const RUN_LOCK_KEY = 727_363_266; // arbitrary, fixed: "payrecon run"
/**
 * Refund planning, execution and verification: one at a time. Not the run lock, because a run verifies refunds
 * while it holds that.
 */
export const REFUND_LOCK_KEY = 727_363_267; // arbitrary, fixed: "payrecon refunds"

export interface HeldLock {
  /**
   * Aborted when the lock's session ends before release (a database restart, an administrator, an idle-session
   * timeout): the server has released the lock then, and another run may take it. Whoever holds the lock stops.
   */
  lost: AbortSignal;
  release(): Promise<void>;
}

/** Puts back the session's own idle_session_timeout (the role's or server's), where the server has one. */
const RESTORE_IDLE_TIMEOUT = `select set_config('idle_session_timeout', reset_val, false) from pg_settings
  where name = 'idle_session_timeout'`;

/** Takes the lock or throws LockHeldError (exit 3) saying what was skipped and who holds it. */
export async function acquireAdvisoryLock(
  pool: pg.Pool,
  key: number,
  skipped: string,
  holderName: string,
): Promise<HeldLock> {
  const client = await pool.connect();
  try {
    // This session stays idle for as long as the work it guards lasts: a DBA's idle_session_timeout (PostgreSQL
    // 14+, often set per role) would end it, and with it the lock, part way through every long run.
    await client.query(
      `select set_config('idle_session_timeout', '0', false) from pg_settings where name = 'idle_session_timeout'`,
    );
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [key]);
    if (!rows[0]?.ok) {
      const holder = await client.query<{ pid: number; since: Date }>(
        `select l.pid, a.backend_start as since from pg_locks l join pg_stat_activity a on a.pid = l.pid
          where l.locktype = 'advisory' and l.objid = $1 and l.granted limit 1`,
        [key],
      );
      const h = holder.rows[0];
      throw new LockHeldError(
        `skipped ${skipped}: another ${holderName} holds the lock${h ? ` (database session ${h.pid}, since ${h.since.toISOString()})` : ''}`,
      );
    }
  } catch (e) {
    await client.query(RESTORE_IDLE_TIMEOUT).catch(() => undefined);
    client.release();
    throw e;
  }
  let released = false;
  const lost = new AbortController();
  const onLost = (e?: Error) => {
    if (!released)
      lost.abort(
        new Error(
          `lost the ${holderName} lock: its database session ended${e ? ` (${e.message})` : ''}; run it again`,
        ),
      );
  };
  client.on('error', onLost);
  client.on('end', onLost);
  return {
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      client.off('error', onLost);
      client.off('end', onLost);
      try {
        await client.query('select pg_advisory_unlock($1)', [key]);
        // The session goes back to the pool: with the DBA's timeout again, like every other session of ours.
        await client.query(RESTORE_IDLE_TIMEOUT);
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    },
  };
}

export function acquireRunLock(pool: pg.Pool, what = 'a run'): Promise<HeldLock> {
  return acquireAdvisoryLock(pool, RUN_LOCK_KEY, what, 'run');
}

export function acquireRefundLock(pool: pg.Pool, what: string): Promise<HeldLock> {
  return acquireAdvisoryLock(pool, REFUND_LOCK_KEY, what, 'refunds plan or execution');
}

/** Whether any session of this database holds the run lock (read from pg_locks: taking it would race a run). */
export async function runLockHeld(db: Db): Promise<boolean> {
  const { rows } = await sql<{ held: boolean }>`
    select exists (
      select 1 from pg_locks l
      where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = ${RUN_LOCK_KEY} and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
    ) as held`.execute(db);
  return rows[0]?.held ?? false;
}
