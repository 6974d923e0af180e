// Each test file gets a database of its own, cloned from the migrated template: fast, isolated, real.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
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
