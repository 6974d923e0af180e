// Migrations against a real database: a schema that a newer payrecon migrated is refused with what to do.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { DatabaseError } from '../../src/shared/errors.js';
import { TOOL_VERSION } from '../../src/shared/version.js';
import { testDbPerSuite } from '../helpers/db.js';

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
