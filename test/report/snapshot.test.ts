// The report's snapshot: queries read at once on other connections see exactly what the snapshot sees, not what
// was committed after it began; with a pool of one connection they run one after the other instead of waiting.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { withSnapshot } from '../../src/report/snapshot.js';
import { extraPool, testDbPerSuite } from '../helpers/db.js';

const db = testDbPerSuite();
beforeAll(async () => {
  await db.pool.query('create table snap_probe (n int)');
  await db.pool.query('insert into snap_probe select generate_series(1, 10)');
});

const count = () => sql<{ n: number }>`select count(*)::int as n from snap_probe`.compile(db.db);
const total = () => sql<{ s: number }>`select coalesce(sum(n), 0)::int as s from snap_probe`.compile(db.db);

describe('withSnapshot', () => {
  it('reads queries at once in sessions that share its snapshot', async () => {
    const seen = await withSnapshot(db.pool, async (snap) => {
      expect(await snap.all(count())).toEqual([{ n: 10 }]);
      // Committed after the snapshot began: invisible to it and to every query read at once.
      await db.pool.query('insert into snap_probe values (100)');
      const [a, b, c] = await snap.allAtOnce([count(), total(), count()] as const);
      return { a, b, c };
    });
    expect(seen).toEqual({ a: [{ n: 10 }], b: [{ s: 55 }], c: [{ n: 10 }] });
    const after = await db.pool.query<{ n: number }>('select count(*)::int as n from snap_probe');
    expect(after.rows[0]?.n).toBe(11);
    await db.pool.query('delete from snap_probe where n = 100');
  });

  it('runs them one after the other on its own connection when the pool has no other', async () => {
    const single = extraPool(db, 1);
    try {
      const out = await withSnapshot(single, (snap) => snap.allAtOnce([count(), total()] as const));
      expect(out).toEqual([[{ n: 10 }], [{ s: 55 }]]);
    } finally {
      await single.end();
    }
  });
});
