// Sessions read dates and timestamps in ISO form whatever DateStyle the server, database or role defaults to.
// A connection that breaks under a checked-out client (the server stopped, or ended the session) is reported by the
// next query on it, and never crashes the process with an unhandled 'error' event. Run in a process of its own,
// over the build, since a crash is what is tested. A server older than payrecon needs is refused when it connects.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, MIN_SERVER_VERSION_NUM, ping, requireSupportedServer } from '../../src/db/connect.js';
import { parseConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/open.js';
import { DatabaseError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const db = testDbPerSuite();
const CONNECT = path.resolve('dist/src/db/connect.js');

function runChild(code: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, out }));
  });
}

describe('connect', () => {
  it('survives the session of a checked-out client being ended; its next query fails', async () => {
    const r = await runChild(
      `
      import { connect } from ${JSON.stringify(CONNECT)};
      const handle = connect(process.env.URL);
      const held = await handle.pool.connect();
      const { rows } = await held.query('select pg_backend_pid() as pid');
      await handle.pool.query('select pg_terminate_backend($1)', [rows[0].pid]);
      // Until its session has ended (at once, or later on a busy machine).
      for (let i = 0; i < 100; i++) {
        const left = await handle.pool.query('select 1 from pg_stat_activity where pid = $1', [rows[0].pid]);
        if (left.rowCount === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 50));
      const next = await held.query('select 1').then(() => 'answered', (e) => 'failed: ' + e.message);
      held.release(true);
      console.log(next);
      await handle.close();
      console.log('survived');`,
      { URL: db.url },
    );
    expect(r.out).toMatch(/^failed: .+\nsurvived\n$/);
    expect(r.code).toBe(0);
  });
});

describe('session styles', () => {
  const styled = testDbPerSuite();

  it('reads dates and timestamps whatever DateStyle and IntervalStyle the database defaults to', async () => {
    await styled.pool.query(
      `alter database ${styled.name} set datestyle = 'SQL, DMY'; alter database ${styled.name} set intervalstyle = 'sql_standard'`,
    );
    const handle = connect(styled.url);
    try {
      const q = `select date '2026-11-21' as d, timestamptz '2026-11-21 10:00:00+00' as t, interval '1 day 2 hours' as i`;
      // Through the pool as Kysely uses it, and on a client checked out for a transaction or a lock.
      const { rows } = await handle.pool.query<{ d: string; t: Date; i: unknown }>(q);
      const client = await handle.pool.connect();
      const held = await client.query<{ d: string; t: Date }>(q).finally(() => client.release());
      for (const row of [rows[0], held.rows[0]]) {
        expect(row?.d).toBe('2026-11-21');
        expect(row?.t.toISOString()).toBe('2026-11-21T10:00:00.000Z');
      }
      expect(JSON.stringify(rows[0]?.i)).toBe('{"days":1,"hours":2}');
    } finally {
      await handle.close();
    }
  });
});

describe('server version', () => {
  it('reads the server version when it connects, and accepts this server', async () => {
    const { rows } = await db.pool.query<{ server_version_num: string }>('show server_version_num');
    const version = await ping(db);
    expect(version.num).toBe(Number(rows[0]?.server_version_num));
    expect(version.num).toBeGreaterThanOrEqual(MIN_SERVER_VERSION_NUM);
  });

  it('refuses a server older than the schema and the SQL need, naming both versions, without the password', () => {
    const url = 'postgres://payrecon:s3cret@db.example.com:5432/payrecon';
    let err: unknown;
    try {
      requireSupportedServer({ num: 100023, text: '10.23' }, url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toMatch(
      /^PostgreSQL 10\.23 at postgres:\/\/payrecon:\S*@db\.example\.com:5432\/payrecon is too old: payrecon needs PostgreSQL 11 or later; upgrade the server/,
    );
    expect((err as Error).message).not.toContain('s3cret');
    expect(() => requireSupportedServer({ num: 110000, text: '11.0' }, url)).not.toThrow();
  });
});

describe('pool size', () => {
  it('opens the database with the pool size the configuration sets', async () => {
    const { config } = parseConfig(
      {
        database: { url: testDbUrl(db.name), poolSize: 5 },
        providers: {
          useepay: {
            baseUrl: 'http://127.0.0.1:9',
            merchantNo: '1',
            appId: 'a',
            apiKey: 'k',
            settlement: { source: 'local', localDir: '/tmp' },
          },
        },
      },
      {},
    );
    const opened = await openDatabase(config, silentLogger(), { migrate: false });
    try {
      expect(opened.pool.options.max).toBe(5);
    } finally {
      await opened.shutdown();
    }
  });
});
