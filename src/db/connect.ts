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

/**
 * The oldest PostgreSQL payrecon runs on (server_version_num). 11 brought what the schema and the SQL use:
 * `execute function` in CREATE TRIGGER (migration 20261121072000), sha256() (discrepancy ids) and
 * hashtextextended() (the settlement load's advisory lock). Everything newer that payrecon can use (a role granted
 * SET on session_replication_role from 15, MAINTAIN from 17) is probed for, never required.
 */
export const MIN_SERVER_VERSION_NUM = 110000;
export const MIN_SERVER_VERSION = '11';

export interface ServerVersion {
  /** server_version_num, e.g. 180001. */
  num: number;
  /** server_version as the server reports it, e.g. '18.1' or '11.22 (Debian 11.22-1)'. */
  text: string;
}

/**
 * Checks that the server answers and is new enough, turning connection failures into one clear DatabaseError.
 * An older server would fail later, mid-migration or mid-run, with a syntax error that names neither version.
 */
export async function ping(handle: DbHandle): Promise<ServerVersion> {
  let version: ServerVersion;
  try {
    const { rows } = await handle.pool.query<{ num: string; text: string }>(
      `select current_setting('server_version_num') as num, current_setting('server_version') as text`,
    );
    version = { num: Number(rows[0]?.num), text: rows[0]?.text ?? '' };
  } catch (e) {
    throw new DatabaseError(
      `cannot connect to PostgreSQL at ${redactUrl(handle.url, '(invalid database url)')}: ${(e as Error).message}` +
        '; check database.url (or DATABASE_URL), and that the server is running and reachable from here',
      { cause: e },
    );
  }
  requireSupportedServer(version, handle.url);
  return version;
}

/** Refuses a server older than MIN_SERVER_VERSION_NUM, naming both versions and what to do. */
export function requireSupportedServer(version: ServerVersion, url: string): void {
  if (version.num >= MIN_SERVER_VERSION_NUM) return;
  throw new DatabaseError(
    `PostgreSQL ${version.text} at ${redactUrl(url, '(invalid database url)')} is too old: payrecon needs ` +
      `PostgreSQL ${MIN_SERVER_VERSION} or later; upgrade the server, or point database.url (or DATABASE_URL) at a newer one`,
  );
}
