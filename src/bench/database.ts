// The database a benchmark script measures against: $BENCH_DATABASE_URL when set (migrated by the script; it deletes
// its rows after), otherwise an embedded PostgreSQL of its own in a temporary folder, stopped and removed by close().
// Never $DATABASE_URL: the benchmarks empty payrecon's tables, and that variable names the database payrecon keeps
// its records in.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { DbHandle } from '../db/connect.js';
import { startEmbedded } from '../db/embedded.js';
import { migrateToLatest } from '../db/migrate.js';
import { serverPort } from '../shared/free-port.js';

/** The table that marks a database as one the benchmarks may empty. */
const MARK = 'payrecon_bench';

/**
 * Refuses a database that holds payrecon's records and was not given to the benchmarks before: they delete rows of
 * (or truncate) runs, settlement files, gateway records and discrepancies. An empty database is marked with a table
 * of its own on first use, so that later runs (which find the rows of the last one) may use it again.
 */
export async function claimBenchDatabase(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ marked: boolean; runs: number; files: number; records: number }>(
    `select to_regclass('${MARK}') is not null as marked,
       (select count(*) from runs)::int as runs, (select count(*) from settlement_files)::int as files,
       (select count(*) from (select 1 from gateway_transactions limit 1) g)::int as records`,
  );
  const r = rows[0]!;
  if (r.marked) return;
  if (r.runs > 0 || r.files > 0 || r.records > 0) {
    const db = (await pool.query<{ name: string }>('select current_database() as name')).rows[0]!.name;
    throw new Error(
      `BENCH_DATABASE_URL names database "${db}", which holds payrecon's records (runs: ${r.runs}, settlement ` +
        `files: ${r.files}${r.records > 0 ? ', and gateway records' : ''}) and was never given to the benchmarks. They ` +
        'empty those tables, so they refuse it: give them an empty database of their own (it is marked for them on ' +
        'first use), or leave BENCH_DATABASE_URL unset for an embedded server in a temporary folder',
    );
  }
  await pool.query(
    `create table ${MARK} (claimed_at timestamptz not null default now());
     comment on table ${MARK} is 'this database is for payrecon''s benchmarks, which empty its tables';
     insert into ${MARK} default values`,
  );
}

/** Migrates the benchmark's database and, when it is the user's ($BENCH_DATABASE_URL), claims it (see above). */
export async function readyBenchDatabase(bench: BenchDatabase, handle: DbHandle): Promise<void> {
  await migrateToLatest(handle.db);
  if (bench.external) await claimBenchDatabase(handle.pool);
}

export interface BenchDatabase {
  url: string;
  /** $BENCH_DATABASE_URL's database, not one of our own. */
  external: boolean;
  /** A temporary folder for the script's files, removed by close(). */
  tmp: string;
  close(): Promise<void>;
}

export async function benchDatabase(
  prefix: string,
  settings: Record<string, string> = {},
): Promise<BenchDatabase> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  const external = process.env.BENCH_DATABASE_URL;
  if (external) return { url: external, external: true, tmp, close: () => Promise.resolve(removeTmp()) };
  const dataDir = path.join(tmp, 'pg');
  try {
    const embedded = await startEmbedded({ dataDir, port: await serverPort(), settings });
    return {
      url: embedded.url,
      external: false,
      tmp,
      async close() {
        await embedded.stop();
        removeTmp();
      },
    };
  } catch (e) {
    removeTmp();
    throw e;
  }
}
