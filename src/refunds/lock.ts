import type pg from 'pg';
import { LockHeldError } from '../shared/errors.js';

// Planning and executing refunds are serialised by their own advisory lock (not the run lock: a run may call the
// planner while it holds that). Session-level on a dedicated connection, so a killed process releases it.
const REFUND_LOCK_KEY = 727_363_267; // arbitrary, fixed: "payrecon refunds"

export interface RefundLock {
  release(): Promise<void>;
}

export async function acquireRefundLock(pool: pg.Pool, what: string): Promise<RefundLock> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [REFUND_LOCK_KEY]);
    if (!rows[0]?.ok) throw new LockHeldError(`skipped ${what}: another refunds plan or execution is in progress`);
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
        await client.query('select pg_advisory_unlock($1)', [REFUND_LOCK_KEY]);
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    },
  };
}
