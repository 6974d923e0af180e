// Each test file gets a database of its own, cloned from the migrated template: fast, isolated, real.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { connect, type DbHandle } from '../../src/db/connect.js';

export interface TestDb extends DbHandle {
  name: string;
  /** Drops the database (closing this handle first). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function testDbUrl(name: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A pool of its own on a test database, for tests that need a pool of a given size. Like connect()'s, it ignores
 * the errors of idle clients: pool.end() resolves before its clients' sessions have ended, so the drop that
 * follows (with force) can terminate one of them, and that error must not surface as an uncaught exception.
 */
export function extraPool(db: TestDb, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: testDbUrl(db.name), max });
  pool.on('error', () => undefined);
  return pool;
}

export async function createTestDb(): Promise<TestDb> {
  const name = `payrecon_t_${randomBytes(5).toString('hex')}`;
  const template = inject('pgTemplate');
  await admin(async (c) => {
    // Creating from a template fails while another session is connected to it; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database ${name} template ${template}`);
        return;
      } catch (e) {
        if (attempt > 20 || !/being accessed by other users/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const handle = connect(testDbUrl(name));
  return {
    ...handle,
    name,
    async drop() {
      await handle.close();
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * A fresh database for each test of the enclosing file or describe block, created in a beforeEach hook and dropped in
 * an afterEach hook: no test sees another's rows. Call it where `let db: TestDb` would go; hooks that need the
 * database go after the call, so that they run after its creation and (afterEach hooks run in reverse order) before
 * its drop.
 */
export function testDbPerTest(): TestDb {
  return hookedTestDb('testDbPerTest()', 'beforeEach/afterEach', beforeEach, afterEach);
}

/**
 * One database for all the tests of the enclosing suite (the file at top level, else the describe block), created in
 * a beforeAll hook and dropped in an afterAll hook: for tests that build on each other's rows, or share an expensive
 * setup. Hooks that need the database go after the call, as for testDbPerTest().
 */
export function testDbPerSuite(): TestDb {
  return hookedTestDb('testDbPerSuite()', 'beforeAll/afterAll', beforeAll, afterAll);
}

type Hook = (fn: () => Promise<void>) => void;

/** Registers the hooks that create and drop a database; the TestDb returned forwards to the database of the moment. */
function hookedTestDb(helper: string, hooks: string, before: Hook, after: Hook): TestDb {
  let current: TestDb | undefined;
  before(async () => {
    current = await createTestDb();
  });
  after(async () => {
    const db = current;
    current = undefined;
    await db?.drop();
  });
  const now = (): TestDb => {
    if (current) return current;
    throw new Error(
      `${helper}: no database at this point: it exists only between its ${hooks} hooks ` +
        '(use it in tests and hooks, not at module or describe level)',
    );
  };
  // Getters of its own, so that a spread ({ ...db }) in a test or hook copies the current database's values.
  return {
    get db() {
      return now().db;
    },
    get pool() {
      return now().pool;
    },
    get url() {
      return now().url;
    },
    get name() {
      return now().name;
    },
    close: () => now().close(),
    drop: () => now().drop(),
  };
}
