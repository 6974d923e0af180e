// Migrations against a real database: a schema that a newer payrecon migrated is refused with what to do, and so is
// a pending migration met by a role that may use the tables but does not own them.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrateToLatest } from '../../src/db/migrate.js';
import { DatabaseError } from '../../src/shared/errors.js';
import { TOOL_VERSION } from '../../src/shared/version.js';
import { runCli } from '../helpers/cli.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const db = testDbPerSuite();

describe('migrateToLatest', () => {
  it('has nothing to do on a migrated database', async () => {
    expect((await migrateToLatest(db.db)).applied).toEqual([]);
  });

  it('says that a newer payrecon migrated the database, rather than calling it corrupted', async () => {
    await sql`insert into payrecon_migration (name, timestamp) values ('20990101000000_from_the_future', now())`.execute(
      db.db,
    );
    try {
      const err = await migrateToLatest(db.db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as Error).message).toBe(
        `the database was migrated by a newer payrecon (its migration 20990101000000_from_the_future is not one of this version's ${TOOL_VERSION}): use that version, or a later one`,
      );
    } finally {
      await sql`delete from payrecon_migration where name = '20990101000000_from_the_future'`.execute(db.db);
    }
    expect((await migrateToLatest(db.db)).applied).toEqual([]);
  });
});

describe('a pending migration met by a role that does not own the tables', () => {
  const owned = testDbPerSuite();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which migrations are pending and that the owner role must run payrecon migrate', async () => {
    const all = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => f.replace(/\.(ts|js)$/, ''))
      .sort();
    const last = all[all.length - 1]!;
    // The owner (the role that migrated the template) takes the schema back to N-1: the last migration is pending.
    const migration = (await import(path.join(MIGRATIONS_DIR, `${last}.ts`))) as {
      down(db: unknown): Promise<void>;
    };
    await migration.down(owned.db);
    await sql`delete from payrecon_migration where name = ${last}`.execute(owned.db);

    // A read/write role, as a DBA grants one for the nightly job: every table and sequence, owning none.
    const role = `payrecon_rw_${Date.now()}`;
    await owned.pool.query(
      `create role ${role} login password 'rw';
       grant usage on schema public to ${role};
       grant select, insert, update, delete, truncate on all tables in schema public to ${role};
       grant usage, select, update on all sequences in schema public to ${role};
       grant execute on all functions in schema public to ${role}`,
    );
    try {
      const url = new URL(testDbUrl(owned.name));
      url.username = role;
      url.password = 'rw';
      const config = path.join(dir, 'rw.yaml');
      writeFileSync(
        config,
        `providers:
  useepay:
    baseUrl: https://openapi1.uat.useepay.com
    merchantNo: '500000000007245'
    appId: www.pay.com
    apiKey: not-used
    settlement: { source: local, localDir: ./inbox }
`,
      );
      const r = await runCli(['runs', '--config', config], { env: { DATABASE_URL: url.toString() } });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      // The server's own words stay in the line ("must be owner of table …" for an alter, "permission denied for
      // schema public" for a new table; the last migration changes over time, so they are not spelled out here).
      expect(lines[lines.length - 1]).toMatch(
        new RegExp(
          `^payrecon: the database role ${role} may not apply the pending migration ${last} \\((?:must be owner of|permission denied for) [^)]+\\): ` +
            "run `payrecon migrate` as the role that owns payrecon's tables, then run this again$",
        ),
      );
      // Nothing half-applied: the owner's migrate applies it, and then the role's command runs.
      expect((await migrateToLatest(owned.db)).applied).toEqual([last]);
      const again = await runCli(['runs', '--config', config], { env: { DATABASE_URL: url.toString() } });
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    } finally {
      await owned.pool.query(`drop owned by ${role}; drop role ${role}`);
    }
  });
});
