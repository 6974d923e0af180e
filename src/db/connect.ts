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

// Dates and timestamps are parsed from their text form, which follows the session's DateStyle: a server or role set
// to `DateStyle = 'SQL, DMY'` (or German) sends '21/11/2026', which the date parser above would pass on as is and
// the timestamp parser cannot read at all. Every session of ours uses the ISO styles, whatever the DBA's default.
const SESSION_STYLES = `set datestyle = 'ISO, MDY'; set intervalstyle = 'postgres'`;

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
    // pg-pool awaits the promise before it hands the new client out (its typings say void): the styles hold from
    // the session's first statement on, and a session that cannot take them is ended and its connect fails.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    onConnect: async (client: pg.ClientBase) => {
      await client.query(SESSION_STYLES);
    },
  });
  // A client whose connection breaks (the server stopped or restarted) must not crash the process with an
  // unhandled 'error' event; the next query on it reports the failure. The pool listens only to idle clients, so
  // every client gets a listener of its own: a checked-out one (the run lock's, a transaction's between statements)
  // used to take the process down with a stack trace.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
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
      // Kysely ends the pool only if it ran a query itself: a handle used only through the pool (ping) would keep
      // its idle clients, and the process, alive until the idle timeout.
      if (!pool.ending) await pool.end();
    },
  };
}

/** Checks that the server answers, turning connection failures into one clear DatabaseError. */
export async function ping(handle: DbHandle): Promise<void> {
  try {
    await handle.pool.query('select 1');
  } catch (e) {
    throw new DatabaseError(
      `cannot connect to PostgreSQL at ${redactUrl(handle.url, '(invalid database url)')}: ${(e as Error).message}` +
        '; check database.url (or DATABASE_URL), and that the server is running and reachable from here',
      { cause: e },
    );
  }
}
