// `payrecon schedule` end to end: the real CLI as a subprocess, ticking every two seconds, starting real child
// CLIs against a real database, skipping overlaps and lock conflicts, and stopping cleanly on SIGTERM.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveDate } from '../../src/shared/dates.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';
import { killSchedulers, startScheduler, writeConfig } from './scheduler-process.js';

const RUN_LOCK_KEY = 727_363_266; // src/db/lock.ts
const MIGRATION_LOCK_KEY = '3853314791062309107'; // Kysely's Postgres migration lock

const db = testDbPerSuite();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-schedule-cli-'));
});
afterEach(killSchedulers);

/** Sessions a test holds locks with: ended after each test, so a failed test leaves no lock for the next one. */
const holders = new Set<pg.Client>();
afterEach(async () => {
  await Promise.allSettled([...holders].map((c) => c.end()));
  holders.clear();
});

async function session(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: testDbUrl(db.name) });
  await c.connect();
  return c;
}

async function holderSession(): Promise<pg.Client> {
  const c = await session();
  holders.add(c);
  return c;
}

/** Once the scheduler has exited: no child of its outlives it, and no session of the CLI is left in the database. */
async function nothingLeftBehind(records: Record<string, unknown>[]): Promise<void> {
  for (const r of records.filter((r) => r.msg === 'tick started')) {
    expect(() => process.kill(r.pid as number, 0), `child ${String(r.pid)} still running`).toThrow();
  }
  // A session's backend leaves pg_stat_activity once it has processed the client's goodbye, which a busy server
  // may do a moment after the client process has gone.
  const deadline = Date.now() + 10_000;
  while ((await payreconSessions()) > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(await payreconSessions()).toBe(0);
}

async function payreconSessions(): Promise<number> {
  const c = await session();
  try {
    const { rows } = await c.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'payrecon'`,
    );
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

async function waitingForMigrationLock(): Promise<boolean> {
  const c = await session();
  try {
    const { rows } = await c.query(
      `select 1 from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
    );
    return rows.length > 0;
  } finally {
    await c.end();
  }
}

describe('payrecon schedule', () => {
  it('starts runs on the cron schedule, skips a tick while its run is still busy, and stops cleanly on SIGTERM', async () => {
    // `migrate` is a cheap command that waits for Kysely's migration lock: holding that lock here makes a scheduled
    // child run exactly as long as the test wants, without any test hook in the product.
    const holder = await holderSession();
    await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    const s = startScheduler(
      writeConfig(dir, db.name, 'busy', { cron: '*/2 * * * * *', timezone: 'UTC', args: ['migrate'] }),
    );
    await s.until(
      () => s.count('tick skipped: the previous run is still running') >= 1,
      'an overlapping tick',
    );
    expect(s.count('tick started')).toBe(1);
    await holder.query(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    await s.until(() => s.count('tick finished') >= 2, 'two finished runs');
    const fin = s.records.find((r) => r.msg === 'tick finished')!;
    expect(fin).toMatchObject({ exitCode: 0, component: 'schedule' });
    expect(fin.durationMs).toBeGreaterThan(0);

    // Hold the lock again: the next run blocks mid-command; SIGTERM must wait for it rather than abandon it. On a
    // slow machine that run may already have started before the lock was taken: any run waiting on it will do.
    await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    await s.until(() => waitingForMigrationLock(), 'a run waiting on the lock');
    s.child.kill('SIGTERM');
    await s.until(() => s.count('scheduler stopping') === 1, 'shutdown to begin');
    expect(s.child.exitCode).toBeNull(); // still waiting for its child
    await holder.query(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    await holder.end();
    expect(await s.exited).toBe(0);
    expect(JSON.parse(s.stdout())).toMatchObject({ stopped: true, skippedBusy: expect.any(Number) });
    expect(s.records.at(-1)?.msg).not.toMatch(/error/i);
    expect(s.count('scheduler stopped')).toBe(1);
    await nothingLeftBehind(s.records);
  }, 120_000);

  it('scheduled `payrecon run`: ticks skipped while another run holds the lock, then runs recorded and notified', async () => {
    const posts: Record<string, unknown>[] = [];
    const server: Server = createServer((req, res) => {
      let t = '';
      req
        .setEncoding('utf8')
        .on('data', (d: string) => (t += d))
        .on('end', () => {
          posts.push(JSON.parse(t));
          res.writeHead(200).end();
        });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const holder = await holderSession();
      await holder.query('select pg_advisory_lock($1)', [RUN_LOCK_KEY]); // a "manual run" in progress
      const s = startScheduler(
        writeConfig(
          dir,
          db.name,
          'run',
          { cron: '*/2 * * * * *', args: ['run', '--date', 'yesterday'] },
          { notify: { webhookUrl: hook, retries: 0 } },
        ),
      );
      await s.until(() => s.count('tick skipped: another run holds the lock') >= 2, 'two lock-skipped ticks');
      expect(posts).toEqual([]); // a skipped tick is not a run
      await holder.query('select pg_advisory_unlock($1)', [RUN_LOCK_KEY]);
      await holder.end();
      await s.until(() => posts.length >= 1, 'a notification');
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);

      const tick = s.records.find(
        (r) => r.msg === 'tick finished' || r.msg === 'tick finished: the run failed',
      )!;
      const post = posts[0]!;
      // Whatever the run's outcome in this build, the notification reports it faithfully.
      expect(post.exitCode).toBe(tick.exitCode);
      expect(post.status).toBe(tick.exitCode === 0 ? 'succeeded' : 'failed');
      // Dates and providers are there even when the run failed before printing them (filled in from its arguments).
      const yesterday = resolveDate('yesterday', 'Europe/Berlin');
      expect(post).toMatchObject({ from: yesterday, to: yesterday, providers: ['payunity'] });
      expect(post.text).toMatch(
        new RegExp(`^payrecon (run \\d+ )?payunity ${yesterday}: (succeeded|failed)`),
      );
      // A plain client (not the test's pool, whose sessions are also named 'payrecon').
      const check = await session();
      const { rows } = await check.query<{ command: string; status: string }>(
        `select command, status from runs order by id`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.every((r) => r.command === 'run' && r.status !== 'running')).toBe(true);
      // The run lock is free again and no session of the CLI is left behind.
      const { rows: lock } = await check.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
        RUN_LOCK_KEY,
      ]);
      expect(lock[0]!.ok).toBe(true);
      await check.end();
      await nothingLeftBehind(s.records);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 120_000);
});
