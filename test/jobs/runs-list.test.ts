// `payrecon runs`: a run marked running is shown as interrupted once no process holds the run lock.
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../src/db/lock.js';
import { INTERRUPTED_ERROR, listRuns } from '../../src/jobs/runs-list.js';
import { extraPool, testDbPerSuite } from '../helpers/db.js';

const db = testDbPerSuite();

describe('listRuns', () => {
  it('shows a running run as running while the lock is held, and as interrupted once it is not', async () => {
    const { id } = await db.db
      .insertInto('runs')
      .values({ command: 'run', tool_version: 'x', providers: ['useepay'] })
      .returning('id')
      .executeTakeFirstOrThrow();
    const pool = extraPool(db, 2);
    try {
      const lock = await acquireRunLock(pool);
      const [held] = await listRuns(db.db, 5);
      expect([held!.runId, held!.status, held!.error]).toEqual([id, 'running', null]);
      await lock.release();
      const [gone] = await listRuns(db.db, 5);
      expect([gone!.runId, gone!.status, gone!.error]).toEqual([id, 'interrupted', INTERRUPTED_ERROR]);
      // Nothing was written: the next run records it as failed.
      const row = await db.db
        .selectFrom('runs')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('running');
    } finally {
      await pool.end();
    }
  });
});
