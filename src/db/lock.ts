import type pg from 'pg';
import { LockHeldError } from '../shared/errors.js';

// One advisory lock shared by every run, manual or scheduled: at most one run touches the data at a time.
// Session-level, on a dedicated connection, so it is released when the process dies, however it dies.
const RUN_LOCK_KEY = 727_363_266; // arbitrary, fixed: "payrecon run"

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireRunLock(pool: pg.Pool, what = 'a run'): Promise<HeldLock> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RUN_LOCK_KEY]);
    if (!rows[0]?.ok) {
      const holder = await client.query<{ pid: number; app: string; since: Date }>(
        `select l.pid, a.application_name as app, a.backend_start as since from pg_locks l
           join pg_stat_activity a on a.pid = l.pid
          where l.locktype = 'advisory' and l.objid = $1 and l.granted limit 1`,
        [RUN_LOCK_KEY],
      );
      const h = holder.rows[0];
      throw new LockHeldError(`skipped ${what}: another run holds the lock${h ? ` (database session ${h.pid}, since ${h.since.toISOString()})` : ''}`);
    }
  } catch (e) {
    client.release();
    throw e;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('select pg_advisory_unlock($1)', [RUN_LOCK_KEY]);
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    },
  };
}
