// Whether the scheduler missed its last slot while it was down (host reboot, deploy at 02:30).
import type { Db } from '../db/connect.js';

/** True when a `run` succeeded that started at or after `since`: the slot at `since` was served. */
export async function succeededRunSince(db: Db, since: Date): Promise<boolean> {
  const row = await db
    .selectFrom('runs')
    .select('id')
    .where('command', '=', 'run')
    .where('status', '=', 'succeeded')
    .where('started_at', '>=', since)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
