// Statistics and visibility after bulk writes. A stage that has just written a million rows leaves them without
// statistics (the planner then sizes joins for an empty table) and without hint bits or visibility-map bits (the
// first statement to read them sets hint bits on every page, and an index-only scan visits the heap for every
// row). Autovacuum fixes both, but on its own schedule, usually after the next stage has paid for it.
import { sql } from 'kysely';
import type { Db } from './connect.js';
import type { Logger } from '../shared/log.js';

/**
 * VACUUM (ANALYZE) of `tables`, each on a connection of its own, at the same time: a vacuum is one process on one
 * core, and a month's tables took seconds each. Its cost follows what changed: pages already all-visible are
 * skipped, and ANALYZE reads a fixed-size sample. A table the role may not vacuum is named in one warning and left
 * to autovacuum (the server itself only sends a notice nobody reads, and does nothing), and any other failure is
 * logged and ignored: this is an optimisation, never a reason to fail a run.
 */
export async function refreshTables(db: Db, tables: readonly string[], log: Logger): Promise<void> {
  const denied = new Set(await notMaintainable(db, tables));
  if (denied.size > 0)
    log.warn(
      { tables: [...denied] },
      'this database role may not VACUUM or ANALYZE these tables, so they wait for autovacuum and later statements may plan against stale statistics: run payrecon as their owner or the database owner, or grant it MAINTAIN on them (PostgreSQL 17+)',
    );
  await Promise.all(
    tables
      .filter((t) => !denied.has(t))
      .map(async (table) => {
        try {
          await sql`vacuum (analyze) ${sql.table(table)}`.execute(db);
        } catch (e) {
          log.warn({ table, err: e instanceof Error ? e.message : String(e) }, 'vacuum skipped');
        }
      }),
  );
}

/**
 * Those of `tables` the role may not vacuum: the server allows a table's owner (or a member of its role), the
 * database's owner and, from PostgreSQL 17, a role with MAINTAIN on it. A table that does not exist is not named
 * here; its vacuum fails and says so.
 */
async function notMaintainable(db: Db, tables: readonly string[]): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`
      select t.name from unnest(${tables}::text[]) as t (name) join pg_class c on c.oid = to_regclass(t.name)
      where not (
        pg_has_role(c.relowner, 'USAGE')
        or pg_has_role((select datdba from pg_database where datname = current_database()), 'USAGE')
        -- CASE: the privilege name is unknown before 17, and CASE evaluates its branch only when chosen.
        or case when current_setting('server_version_num')::int >= 170000
             then has_table_privilege(c.oid, 'MAINTAIN') else false end)`.execute(db);
    return rows.map((r) => r.name);
  } catch {
    return []; // the vacuums then run and warn one by one, as they would
  }
}
