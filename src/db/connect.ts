import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DatabaseError } from '../shared/errors.js';
import type { Database } from './schema.js';
import { redactUrl } from '../shared/redact-url.js';

// bigint (int8) columns hold minor units and ids: parse them as numbers, refusing any that would lose precision.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new DatabaseError(`bigint value ${v} exceeds the safe integer range`);
  return n;
});
// date columns stay 'YYYY-MM-DD' text: a calendar date has no time zone, and a JS Date would invent one.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);

export type Db = Kysely<Database>;

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export function connect(url: string, opts: { max?: number; applicationName?: string } = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 6,
    application_name: opts.applicationName ?? 'payrecon',
    connectionTimeoutMillis: 15_000,
  });
  // An idle client that errors (server restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    pool,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Checks that the server answers, turning connection failures into one clear DatabaseError. */
export async function ping(handle: DbHandle): Promise<void> {
  try {
    await handle.pool.query('select 1');
  } catch (e) {
    throw new DatabaseError(
      `cannot connect to PostgreSQL at ${redactUrl(handle.url, '(invalid database url)')}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
