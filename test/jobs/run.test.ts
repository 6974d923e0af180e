import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { connect } from '../../src/db/connect.js';
import { RUN_LOCK_KEY } from '../../src/db/lock.js';
import { MIN_POOL_SIZE } from '../../src/db/pool-size.js';
import type { OpenDatabase } from '../../src/db/open.js';
import type { StageContext } from '../../src/jobs/context.js';
import { executeRun, type RunRequest, type RunStages } from '../../src/jobs/run.js';
import { defaultStages } from '../../src/jobs/stages.js';
import { formatRunResult } from '../../src/jobs/summary.js';
import { ConfigError, LockHeldError, RunFailedError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import { testDbPerSuite, testDbUrl } from '../helpers/db.js';

const tdb = testDbPerSuite();
let db: OpenDatabase;
beforeAll(() => {
  db = { ...tdb, embedded: undefined, shutdown: () => tdb.close() };
});

const useepay = {
  baseUrl: 'http://127.0.0.1:9',
  merchantNo: '1',
  appId: 'a',
  apiKey: 'k-secret',
  settlement: { source: 'local', localDir: '/tmp' },
};
const { config } = parseConfig({ providers: { useepay } }, {});
const req: RunRequest = {
  command: 'run',
  range: { from: '2026-11-20', to: '2026-11-20' },
  providers: ['useepay'],
  stages: { fetch: true, pull: true, report: true },
};

/**
 * What a fetch writes that the run counts: a loaded file of this run with `rejected` rejected lines. Its date is
 * outside every range here, so only the run that loaded it counts them.
 */
async function loadedFile(ctx: StageContext, provider: string, rejected: number): Promise<void> {
  const { rows } = await sql<{ id: number }>`
    insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status,
      line_count, loaded_count, rejected_count, run_id)
    values (${provider}, ${`/out/${provider}-${ctx.runId}.csv`}, ${`${provider}-${ctx.runId}.csv`}, 1,
      repeat('0', 64), '2026-10-01', ${provider}, 'loaded', ${rejected + 1}, 1, ${rejected}, ${ctx.runId})
    returning id`.execute(ctx.db);
  for (let i = 0; i < rejected; i++)
    await sql`insert into rejected_lines (file_id, line_no, reason, raw) values (${rows[0]!.id}, ${i + 2}, 'bad', 'x')`.execute(
      ctx.db,
    );
}

function stages(overrides: Partial<RunStages> = {}): RunStages {
  return {
    fetch: async (ctx) => {
      await loadedFile(ctx, 'useepay', 1);
      return { files: [{ name: 'f.csv' }] };
    },
    pull: () => Promise.resolve({ windows: [{ endpoint: 'intents', records: 5 }], records: 5 }),
    match: () =>
      Promise.resolve({
        matched: 3,
        awaitingSettlement: { count: 2 },
        discrepancies: { amount_mismatch: 1 },
      }),
    verifyRefunds: () => Promise.resolve(undefined),
    lateFiles: () => Promise.resolve([]),
    report: (_ctx, runId) => Promise.resolve(`/reports/run-${runId}.xlsx`),
    ...overrides,
  };
}

const env = (s: RunStages) => ({
  db,
  config,
  log: silentLogger(),
  signal: new AbortController().signal,
  now: () => new Date('2026-11-21T08:00:00Z'),
  stages: s,
});

/** The run record of a run that failed with `err` (which must be a RunFailedError). */
async function failedRun(err: unknown) {
  expect(err).toBeInstanceOf(RunFailedError);
  return db.db
    .selectFrom('runs')
    .selectAll()
    .where('id', '=', (err as RunFailedError).runId!)
    .executeTakeFirstOrThrow();
}

describe('a run', () => {
  it('records itself, its manifest and counts', async () => {
    const result = await executeRun(env(stages()), req);
    expect(result).toMatchObject({
      status: 'succeeded',
      from: '2026-11-20',
      to: '2026-11-20',
      reportPath: `/reports/run-${result.runId}.xlsx`,
      counts: { matched: 3, awaitingSettlement: 2, rejectedLines: 1, discrepancies: { amount_mismatch: 1 } },
    });
    const row = await db.db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', result.runId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('succeeded');
    expect(row.report_path).toBe(result.reportPath);
    expect(row.manifest).toMatchObject({
      range: req.range,
      asOf: '2026-11-21',
      files: [{ name: 'f.csv' }],
      windows: [{ endpoint: 'intents' }],
    });
    expect(Object.keys(row.manifest.stages as object).sort()).toEqual([
      'fetch:useepay',
      'match',
      'pull:useepay',
      'report',
      'verify',
    ]);
  });

  it('lets only one run hold the lock at a time', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = executeRun(
      env(
        stages({
          fetch: async () => {
            entered();
            await held;
            return { files: [] };
          },
        }),
      ),
      req,
    );
    await inside;
    await expect(executeRun(env(stages()), req)).rejects.toBeInstanceOf(LockHeldError);
    release();
    await expect(first).resolves.toMatchObject({ status: 'succeeded' });
    await expect(executeRun(env(stages()), req)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('refuses a pool too small for a run, naming the setting, before it records a run or takes the lock', async () => {
    const small = connect(testDbUrl(tdb.name), { max: MIN_POOL_SIZE - 1 });
    const before = await tdb.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    try {
      const err = await executeRun({ ...env(stages()), db: { ...db, ...small } }, req).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(
        `database.poolSize: a run needs at least ${MIN_POOL_SIZE} connections and this process may open only ${MIN_POOL_SIZE - 1}; set database.poolSize to ${MIN_POOL_SIZE} or more`,
      );
    } finally {
      await small.close();
    }
    const after = await tdb.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    // At the minimum it runs.
    const enough = connect(testDbUrl(tdb.name), { max: MIN_POOL_SIZE });
    try {
      await expect(executeRun({ ...env(stages()), db: { ...db, ...enough } }, req)).resolves.toMatchObject({
        status: 'succeeded',
      });
    } finally {
      await enough.close();
    }
  });

  it('marks a failed run failed with its reason, and releases the lock', async () => {
    const err = await executeRun(
      env(stages({ pull: () => Promise.reject(new Error('useepay unreachable')) })),
      req,
    ).catch((e: unknown) => e);
    const row = await failedRun(err);
    expect(row.status).toBe('failed');
    expect(row.error).toBe('useepay unreachable');
    // What the fetch did before the failure is on record.
    expect(row.counts).toMatchObject({ rejectedLines: 1, refusedFiles: 0 });
    expect(row.manifest).toMatchObject({
      stages: { 'fetch:useepay': { status: 'succeeded' }, 'pull:useepay': { status: 'failed' } },
    });
    await expect(executeRun(env(stages()), req)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it("keeps the run's own error, and its id, when the failure cannot be recorded either", async () => {
    // A database that refuses the update recording the failure, as one that has just gone away does.
    await sql`
      create function refuse_failed_run() returns trigger language plpgsql as $$
      begin
        if new.status = 'failed' then raise exception 'the database is shutting down'; end if;
        return new;
      end $$`.execute(db.db);
    await sql`create trigger refuse_failed_run before update on runs
      for each row execute function refuse_failed_run()`.execute(db.db);
    try {
      const err = await executeRun(
        env(stages({ pull: () => Promise.reject(new Error('useepay unreachable')) })),
        req,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      expect((err as RunFailedError).runId).toEqual(expect.any(Number));
      expect((err as Error).message).toBe(
        `run ${(err as RunFailedError).runId} failed: useepay unreachable ` +
          '(and the failure could not be recorded: the database is shutting down)',
      );
    } finally {
      await sql`drop trigger refuse_failed_run on runs`.execute(db.db);
      await sql`drop function refuse_failed_run()`.execute(db.db);
    }
    // The record left running is closed by the next run, which the lock lets in.
    await expect(executeRun(env(stages()), req)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('stops, marked failed, when the session holding its lock ends (another run could take the lock)', async () => {
    const err = await executeRun(
      env(
        stages({
          pull: async (ctx) => {
            // What a database restart or an administrator does to the lock's idle session.
            await sql`
              select pg_terminate_backend(pid) from pg_locks
              where locktype = 'advisory' and granted and objid = ${RUN_LOCK_KEY}
                and database = (select oid from pg_database where datname = current_database())`.execute(
              ctx.db,
            );
            // A long stage: it ends early only when the run is stopped.
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 3000);
              ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
            });
            return { windows: [], records: 0 };
          },
        }),
      ),
      req,
    ).catch((e: unknown) => e);
    const row = await failedRun(err);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/lost the run lock/);
    await expect(executeRun(env(stages()), req)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('counts the refunds sent that no settlement file shows in time, and says so', async () => {
    const overdue = [
      { actionId: 4, provider: 'useepay', amountMinor: 649, currency: 'USD', dueBy: '2026-11-18' },
    ];
    const result = await executeRun(env(stages({ verifyRefunds: () => Promise.resolve({ overdue }) })), req);
    expect(result.counts.overdueRefunds).toBe(1);
    const row = await db.db
      .selectFrom('runs')
      .select(['counts', 'manifest'])
      .where('id', '=', result.runId)
      .executeTakeFirstOrThrow();
    expect(row.counts).toMatchObject({ overdueRefunds: 1 });
    expect(row.manifest).toMatchObject({ refundChecks: { overdue } });
    expect(formatRunResult(result)).toContain(
      "refunds sent but in no settlement file past the settlement lag: 1 (listed in the workbook's Run info)",
    );
  });

  it('completes with a file left for the next fetch, says so, and does not call its date late', async () => {
    const name = 'useepay_settlement_1_2026-11-20.csv';
    const reason = 'permission denied reading it: not loaded; the next fetch takes it again';
    const real = defaultStages({ config, log: silentLogger() });
    const result = await executeRun(
      env(
        stages({
          fetch: () =>
            Promise.resolve({
              files: [
                { name, status: 'refused', reason, settlementDate: '2026-11-20', retryNextFetch: true },
              ],
            }),
          // The real check, over the real file registry (which holds no file of the 20th).
          lateFiles: (...args) => real.lateFiles(...args),
        }),
      ),
      req,
    );
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ refusedFiles: 1 });
    expect(result.files).toEqual([{ provider: 'useepay', file: name, what: 'refused', reason }]);
    // (Earlier dates, back to the registry's first file, are late: only the 20th had a file.)
    expect(
      (result.lateFiles as { settlementDate: string }[]).filter((l) => l.settlementDate === '2026-11-20'),
    ).toEqual([
      {
        provider: 'useepay',
        settlementDate: '2026-11-20',
        expectedBy: '2026-11-20T12:00:00+00:00',
        status: 'not_loaded',
        files: [{ file: name, reason }],
      },
    ]);
    const text = formatRunResult(result);
    expect(text).toContain(`  settlement file not loaded: ${name} (useepay): ${reason}`);
    expect(text).toContain(
      `  settlement file arrived but not loaded yet: useepay for 2026-11-20 (expected by 2026-11-20T12:00:00+00:00): ${name}, see above`,
    );
    expect(text).not.toContain('late settlement file: useepay for 2026-11-20');
  });

  it('records no run when it is stopped before it begins', async () => {
    const before = await db.db.selectFrom('runs').select('id').execute();
    const stopped = new AbortController();
    stopped.abort(new Error('interrupted by SIGTERM'));
    await expect(executeRun({ ...env(stages()), signal: stopped.signal }, req)).rejects.toThrow(
      'interrupted by SIGTERM',
    );
    expect(await db.db.selectFrom('runs').select('id').execute()).toEqual(before);
    await expect(executeRun(env(stages()), req)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('closes runs that a killed process left running', async () => {
    const { id } = await db.db
      .insertInto('runs')
      .values({ command: 'run', tool_version: 'x', providers: ['useepay'] })
      .returning('id')
      .executeTakeFirstOrThrow();
    await executeRun(env(stages()), req);
    const row = await db.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/interrupted/);
  });

  describe('with two providers', () => {
    const both = parseConfig(
      {
        providers: {
          payunity: {
            baseUrl: 'http://127.0.0.1:9',
            entityId: 'e',
            accessToken: 't-secret',
            settlement: { source: 'local', localDir: '/tmp' },
          },
          useepay,
        },
      },
      {},
    ).config;
    const req2: RunRequest = { ...req, providers: ['payunity', 'useepay'] };

    it('loads and pulls both providers at once, and records their results in provider order', async () => {
      const started = new Set<string>();
      // Each provider's stage finishes only once the other one's has started: one after the other would never end.
      const meet = (stage: string, provider: string) => {
        started.add(`${stage}:${provider}`);
        const other = `${stage}:${provider === 'payunity' ? 'useepay' : 'payunity'}`;
        return new Promise<void>((resolve, reject) => {
          const deadline = Date.now() + 5000;
          const poll = () => {
            if (started.has(other)) resolve();
            else if (Date.now() > deadline)
              reject(new Error(`${other} never started while ${stage}:${provider} ran`));
            else setTimeout(poll, 5);
          };
          poll();
        });
      };
      const result = await executeRun(
        {
          ...env(
            stages({
              fetch: async (c, p) => {
                // useepay ends first, yet payunity's files are listed first.
                await meet('fetch', p);
                await loadedFile(c, p, 1);
                if (p === 'payunity') await new Promise((r) => setTimeout(r, 30));
                return { files: [{ name: `${p}.csv` }] };
              },
              pull: async (_c, p) => {
                await meet('pull', p);
                return { windows: [{ endpoint: p }], records: 1 };
              },
            }),
          ),
          config: both,
        },
        req2,
      );
      expect(result.counts.rejectedLines).toBe(2);
      const row = await db.db
        .selectFrom('runs')
        .select('manifest')
        .where('id', '=', result.runId)
        .executeTakeFirstOrThrow();
      expect(row.manifest).toMatchObject({
        files: [{ name: 'payunity.csv' }, { name: 'useepay.csv' }],
        windows: [{ endpoint: 'payunity' }, { endpoint: 'useepay' }],
      });
    });

    it("stops the other provider's stage when one fails, and reports the failure that came first", async () => {
      let abortedSibling = false;
      const err = await executeRun(
        {
          ...env(
            stages({
              fetch: (ctx, p) =>
                p === 'useepay'
                  ? Promise.reject(new Error('useepay file unreadable'))
                  : new Promise((_resolve, reject) => {
                      ctx.signal.addEventListener('abort', () => {
                        abortedSibling = true;
                        reject(new Error('aborted'));
                      });
                    }),
            }),
          ),
          config: both,
        },
        req2,
      ).catch((e: unknown) => e);
      expect(abortedSibling).toBe(true);
      const row = await failedRun(err);
      expect(row.error).toBe('useepay file unreadable');
      expect(row.manifest).toMatchObject({
        stages: { 'fetch:payunity': { status: 'failed' }, 'fetch:useepay': { status: 'failed' } },
      });
      expect(Object.keys(row.manifest.stages as object)).not.toContain('pull:payunity');
    });
  });
});
