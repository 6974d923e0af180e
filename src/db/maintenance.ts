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
 * skipped, and ANALYZE reads a fixed-size sample. A role that may not vacuum a table gets a server warning and no
 * vacuum, and any other failure is logged and ignored: this is an optimisation, never a reason to fail a run.
 */
export async function refreshTables(db: Db, tables: readonly string[], log: Logger): Promise<void> {
  await Promise.all(
    tables.map(async (table) => {
      try {
        await sql`vacuum (analyze) ${sql.table(table)}`.execute(db);
      } catch (e) {
        log.warn({ table, err: e instanceof Error ? e.message : String(e) }, 'vacuum skipped');
      }
    }),
  );
}
