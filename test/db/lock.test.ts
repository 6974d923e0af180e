// The run lock's session outlives the idle periods of the work it guards.
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { acquireRunLock, runLockHeld } from '../../src/db/lock.js';
import { testDbPerSuite } from '../helpers/db.js';

const tdb = testDbPerSuite();

describe('advisory locks', () => {
  it('are kept through a wait longer than the idle_session_timeout the database sets', async () => {
    await tdb.pool.query(`alter database ${tdb.name} set idle_session_timeout = '200ms'`);
    const handle = connect(tdb.url);
    const lock = await acquireRunLock(handle.pool, 'a test run');
    await new Promise((r) => setTimeout(r, 800));
    const lost = lock.lost.aborted;
    const held = await runLockHeld(tdb.db);
    await lock.release();
    // The lock's session is back in the pool with the database's timeout, as every other session of ours.
    const { rows } = await handle.pool.query<{ t: string }>(
      `select current_setting('idle_session_timeout') as t`,
    );
    await handle.close();
    expect(lost).toBe(false);
    expect(held).toBe(true);
    expect(rows[0]!.t).toBe('200ms');
    expect(await runLockHeld(tdb.db)).toBe(false);
  });
});
