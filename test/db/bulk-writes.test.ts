// The helpers behind bulk writes, against a real server: skipping per-row trigger work only where it is safe,
// and refreshing statistics and visibility after a bulk write.
import { sql } from 'kysely';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { refreshTables } from '../../src/db/maintenance.js';
import { mayWriteWithoutRowTriggers, withoutRowTriggers, type RunSql } from '../../src/db/row-triggers.js';
import { testDbPerSuite } from '../helpers/db.js';

const tdb = testDbPerSuite();
beforeAll(async () => {
  // No autovacuum on bw_parent: an automatic vacuum or analyze reading it while the refresh test vacuums it could
  // keep a page pinned, and VACUUM leaves a page it cannot lock for cleanup not marked all-visible.
  await tdb.pool.query(`
    create table bw_parent (id int primary key) with (autovacuum_enabled = false);
    create table bw_child (id int primary key, parent int references bw_parent (id));
    insert into bw_parent values (1);`);
});

/** One transaction on one connection, as the callers use the helpers. */
async function inTransaction<T>(fn: (run: RunSql) => Promise<T>): Promise<T> {
  const client = await tdb.pool.connect();
  try {
    await client.query('begin');
    const out = await fn((text) => client.query(text));
    await client.query('rollback');
    return out;
  } finally {
    client.release();
  }
}

const role = async (run: RunSql) =>
  ((await run('show session_replication_role')).rows[0] as { session_replication_role: string })
    .session_replication_role;

describe('writes without row triggers', () => {
  it('skips the foreign-key check inside the write only, and restores the role after it', async () => {
    await inTransaction(async (run) => {
      expect(await mayWriteWithoutRowTriggers(run, 'bw_child', ['insert'])).toBe(true);
      // The check is really off inside: a row naming a missing parent goes in (the caller's guarantee).
      await withoutRowTriggers(run, true, () => run('insert into bw_child values (1, 99)'));
      expect(await role(run)).toBe('origin');
      // And on again after it.
      await expect(run('insert into bw_child values (2, 98)')).rejects.toThrow(/foreign key/);
    });
  });

  it('restores the role when the write fails', async () => {
    await inTransaction(async (run) => {
      await run('savepoint s');
      await expect(
        withoutRowTriggers(run, true, () => run('insert into bw_child values (1, 1), (1, 1)')),
      ).rejects.toThrow(/duplicate key/);
      await run('rollback to savepoint s');
      expect(await role(run)).toBe('origin');
    });
  });

  it('keeps every check when the table has a trigger of its own for that event', async () => {
    await tdb.pool.query(`
      create function bw_note() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger bw_child_note before update on bw_child for each row execute function bw_note();`);
    try {
      await inTransaction(async (run) => {
        expect(await mayWriteWithoutRowTriggers(run, 'bw_child', ['update'])).toBe(false);
        // An update trigger does not stand in the way of inserts.
        expect(await mayWriteWithoutRowTriggers(run, 'bw_child', ['insert'])).toBe(true);
        // Not allowed: the write runs with its checks.
        await expect(
          withoutRowTriggers(run, false, () => run('insert into bw_child values (3, 97)')),
        ).rejects.toThrow(/foreign key/);
      });
    } finally {
      await tdb.pool.query('drop trigger bw_child_note on bw_child; drop function bw_note()');
    }
  });

  it('keeps every check for a role that may not set the parameter', async () => {
    const name = `bw_user_${Date.now()}`;
    await tdb.pool.query(`create role ${name}; grant all on bw_child, bw_parent to ${name}`);
    try {
      await inTransaction(async (run) => {
        await run(`set local role ${name}`);
        expect(await mayWriteWithoutRowTriggers(run, 'bw_child', ['insert'])).toBe(false);
        // The probe left the transaction usable.
        expect(await role(run)).toBe('origin');
      });
    } finally {
      await tdb.pool.query(`revoke all on bw_child, bw_parent from ${name}; drop role ${name}`);
    }
  });
});

describe('refreshing tables after a bulk write', () => {
  it('gives fresh rows statistics and visibility, and only warns about a table it cannot vacuum', async () => {
    await tdb.pool.query('insert into bw_parent select g from generate_series(2, 20001) g');
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    await refreshTables(tdb.db, ['bw_parent', 'no_such_table'], log);
    const stats = () =>
      sql<{ analyzed: boolean; vacuumed: boolean; visible: number; pages: number }>`
        select s.last_analyze is not null as analyzed, s.last_vacuum is not null as vacuumed,
          c.relallvisible as visible, c.relpages as pages
        from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'bw_parent'`
        .execute(tdb.db)
        .then((r) => r.rows[0]!);
    expect(await stats()).toMatchObject({ analyzed: true, vacuumed: true });
    expect(lines.join('')).toMatch(/no_such_table/);

    // VACUUM marks a page all-visible only when a hint bit may say its rows' commit is durable, and the commit log
    // keeps one LSN per group of 32 transactions: the latest asynchronous commit among them (the tests' embedded
    // server commits asynchronously, payrecon's pull batches too). With other test files committing at the same
    // time, a vacuum before the WAL writer's next flush (every 200 ms) can leave every page not all-visible, as it
    // did in CI. Refreshed again, as the next run would, the pages must become all-visible within a few flushes.
    let now = await stats();
    for (let attempt = 1; now.visible !== now.pages && attempt <= 20; attempt++) {
      await new Promise((r) => setTimeout(r, 250));
      await refreshTables(tdb.db, ['bw_parent'], log);
      now = await stats();
    }
    expect(now.pages).toBeGreaterThan(0);
    expect(now.visible).toBe(now.pages);
  });

  it('names the tables a role that may write but not vacuum them leaves to autovacuum, and what to grant', async () => {
    const name = `bw_writer_${Date.now()}`;
    // What a run needs; not ALL, which includes MAINTAIN from PostgreSQL 17 on.
    await tdb.pool.query(
      `create role ${name} login password 'bw'; grant select, insert, update, delete on bw_child, bw_parent to ${name}`,
    );
    const url = new URL(tdb.url);
    url.username = name;
    url.password = 'bw';
    const writer = connect(url.toString());
    try {
      const lines: string[] = [];
      const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
      await refreshTables(writer.db, ['bw_parent', 'bw_child'], log);
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as { tables: string[]; msg: string };
      expect(line.tables.sort()).toEqual(['bw_child', 'bw_parent']);
      expect(line.msg).toMatch(/may not VACUUM or ANALYZE.*stale statistics.*owner.*MAINTAIN/);
    } finally {
      await writer.close();
      await tdb.pool.query(`revoke all on bw_child, bw_parent from ${name}; drop role ${name}`);
    }
  });
});
