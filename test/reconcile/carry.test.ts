// Settlement lag in a non-UTC time zone with weekends and holidays; stable ids; reruns; carry-forward and reopening.
import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { discrepancyId, matchRange } from '../../src/reconcile/index.js';
import { testDbPerTest } from '../helpers/db.js';
import {
  insertFile,
  insertGateway,
  newRun,
  openDiscrepancies,
  openKeys,
  selection,
  stageContext,
  testConfig,
} from './fixtures.js';

const db = testDbPerTest();

/** The awaiting-settlement snapshot a run recorded: transaction id and deadline, by deadline. */
async function awaitingOfRun(runId: number): Promise<[string, string][]> {
  const rows = await db.db
    .selectFrom('run_awaiting')
    .select(['transaction_id', 'deadline'])
    .where('run_id', '=', runId)
    .orderBy('deadline')
    .orderBy('transaction_id')
    .execute();
  return rows.map((r) => [r.transaction_id, r.deadline]);
}

test('lag: local dates in the configured zone, weekends and holidays; awaiting versus missing', async () => {
  await insertGateway(db.db, [
    // Thursday 23:30 UTC is Friday 20th in Berlin: due Thursday 26th (Mon, Tue, Wed 25th is a holiday, Thu).
    { id: 'A', time: '2026-11-19T23:30:00Z' },
    // Tuesday 17th: due Friday 20th, the range start, so in scope, and past due.
    { id: 'B', time: '2026-11-17T10:00:00Z' },
    // Monday 16th: due Thursday 19th, before the range: an earlier run's business.
    { id: 'C', time: '2026-11-16T10:00:00Z' },
  ]);
  const sel = selection('2026-11-20', '2026-11-20', ['payunity']);
  // 23:30 UTC on the 25th is already the 26th in Berlin.
  const now = '2026-11-25T23:30:00Z';

  const berlin = testConfig({ timezone: 'Europe/Berlin', holidays: ['2026-11-25'] });
  const run1 = await newRun(db.db);
  const s1 = await matchRange(stageContext(db, berlin, now, run1), sel);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:B']);
  expect(s1.awaitingSettlement).toEqual({ count: 1, byCurrency: { EUR: { count: 1, amountMinor: 1000 } } });
  expect(await awaitingOfRun(run1)).toEqual([['A', '2026-11-26']]);

  // Without the holiday, A was due on the 25th: missing on the 26th.
  const noHoliday = testConfig({ timezone: 'Europe/Berlin' });
  const run2 = await newRun(db.db);
  const s2 = await matchRange(stageContext(db, noHoliday, now, run2), sel);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:A', 'missing_in_settlement:B']);
  expect(s2.awaitingSettlement.count).toBe(0);
  expect(await awaitingOfRun(run2)).toEqual([]);

  // In UTC, A is a Thursday movement, due Tuesday the 24th: missing as well.
  const utc = testConfig({ timezone: 'UTC', holidays: ['2026-11-25'] });
  const run3 = await newRun(db.db);
  await matchRange(stageContext(db, utc, now, run3), sel);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:A', 'missing_in_settlement:B']);
});

test('stable ids, a rerun changes nothing, late settlement closes with its date, a correction reopens', async () => {
  const config = testConfig();
  await insertGateway(db.db, [
    { id: 'P1', time: '2026-11-20T10:00:00Z' },
    { id: 'P2', time: '2026-11-20T10:00:00Z' },
  ]);
  const lineFile = await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'P2', gross: 1500 },
    { tid: 'GHOST' },
  ]);
  const sel = selection('2026-11-20', '2026-11-20');

  const run1 = await newRun(db.db);
  const s1 = await matchRange(stageContext(db, config, '2026-11-30T08:00:00Z', run1), sel);
  expect(s1).toMatchObject({ opened: 3, closed: 0, reopened: 0 });
  const first = await openDiscrepancies(db.db);
  expect(first.map((d) => d.id).sort()).toEqual(
    [
      discrepancyId('payunity', 'missing_in_settlement', 'P1'),
      discrepancyId('payunity', 'amount_mismatch', 'P2'),
      discrepancyId('payunity', 'missing_in_gateway', 'GHOST'),
    ].sort(),
  );

  // Rerun: same ids, same content; only last_seen_run_id moves; run_discrepancies says "unchanged".
  const matchesBefore = await db.db.selectFrom('matches').selectAll().orderBy('settlement_line_id').execute();
  const run2 = await newRun(db.db);
  const s2 = await matchRange(stageContext(db, config, '2026-11-30T08:00:00Z', run2), sel);
  expect(s2).toMatchObject({ opened: 0, closed: 0, reopened: 0 });
  const second = await openDiscrepancies(db.db);
  const strip = (rows: typeof first) => rows.map(({ last_seen_run_id: _l, ...rest }) => rest);
  expect(strip(second)).toEqual(strip(first));
  expect(second.every((d) => d.last_seen_run_id === run2)).toBe(true);
  expect(await db.db.selectFrom('matches').selectAll().orderBy('settlement_line_id').execute()).toEqual(
    matchesBefore,
  );
  const changes2 = await db.db
    .selectFrom('run_discrepancies')
    .select('change')
    .where('run_id', '=', run2)
    .execute();
  expect(changes2.map((c) => c.change)).toEqual(['unchanged', 'unchanged', 'unchanged']);

  // P1 settles on 1 December. A run over December re-checks the open discrepancy of November and closes it.
  await insertFile(db.db, 'payunity', '2026-12-01', [{ tid: 'P1' }]);
  const run3 = await newRun(db.db);
  const s3 = await matchRange(
    stageContext(db, config, '2026-12-02T08:00:00Z', run3),
    selection('2026-12-01', '2026-12-01'),
  );
  expect(s3).toMatchObject({ opened: 0, closed: 1, reopened: 0 });
  const closed = await db.db
    .selectFrom('discrepancies')
    .selectAll()
    .where('transaction_id', '=', 'P1')
    .executeTakeFirstOrThrow();
  expect(closed).toMatchObject({
    status: 'closed',
    close_reason: 'settled late on 2026-12-01',
    closed_run_id: run3,
  });
  expect(closed.closed_at?.toISOString()).toBe('2026-12-02T08:00:00.000Z');
  expect(await openKeys(db.db)).toEqual(['amount_mismatch:P2', 'missing_in_gateway:GHOST']);

  // The December file is withdrawn (a correction deletes its lines): P1 is missing again, under the same id.
  await sql`delete from settlement_lines where settlement_date = '2026-12-01'`.execute(db.db);
  // The November file is corrected: P2 at its right amount, GHOST gone.
  await sql`delete from settlement_lines where file_id = ${lineFile}`.execute(db.db);
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'P2' }]);
  const run4 = await newRun(db.db);
  const s4 = await matchRange(stageContext(db, config, '2026-12-02T08:00:00Z', run4), sel);
  expect(s4).toMatchObject({ opened: 0, closed: 2, reopened: 1 });
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:P1']);
  const reopened = await db.db
    .selectFrom('discrepancies')
    .selectAll()
    .where('transaction_id', '=', 'P1')
    .executeTakeFirstOrThrow();
  expect(reopened).toMatchObject({
    id: closed.id,
    status: 'open',
    close_reason: null,
    closed_at: null,
    opened_run_id: run1,
  });
  const reasons = await db.db
    .selectFrom('discrepancies')
    .select(['transaction_id', 'close_reason'])
    .where('status', '=', 'closed')
    .orderBy('transaction_id')
    .execute();
  expect(reasons).toEqual([
    { transaction_id: 'GHOST', close_reason: 'no longer found on rerun' },
    { transaction_id: 'P2', close_reason: 'no longer found on rerun' },
  ]);
  const changes4 = await db.db
    .selectFrom('run_discrepancies')
    .innerJoin('discrepancies as d', 'd.id', 'discrepancy_id')
    .select(['d.transaction_id', 'change'])
    .where('run_id', '=', run4)
    .orderBy('d.transaction_id')
    .execute();
  expect(changes4).toEqual([
    { transaction_id: 'GHOST', change: 'closed' },
    { transaction_id: 'P1', change: 'reopened' },
    { transaction_id: 'P2', change: 'closed' },
  ]);
});

test('a payment whose line was settled in time, in a file loaded late, closes as settled in time', async () => {
  const config = testConfig();
  // Friday the 20th, due three business days later: Wednesday the 25th.
  await insertGateway(db.db, [{ id: 'ONTIME', time: '2026-11-20T10:00:00Z' }]);
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-27T08:00:00Z', run1),
    selection('2026-11-20', '2026-11-20'),
  );
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:ONTIME']);
  // The file of the 24th, with its line, is only loaded on the 28th: the money was not late, the file was.
  await insertFile(db.db, 'payunity', '2026-11-24', [{ tid: 'ONTIME' }]);
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-28T08:00:00Z', run2),
    selection('2026-11-24', '2026-11-24'),
  );
  const closed = await db.db
    .selectFrom('discrepancies')
    .select(['status', 'close_reason'])
    .where('transaction_id', '=', 'ONTIME')
    .executeTakeFirstOrThrow();
  expect(closed).toEqual({
    status: 'closed',
    close_reason:
      'settled on 2026-11-24, within the settlement lag: its file was loaded after this was opened',
  });
});

test('a missing_in_gateway line closes when the gateway learns the id', async () => {
  const config = testConfig();
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'LATE' }]);
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-21T08:00:00Z', run1),
    selection('2026-11-20', '2026-11-20'),
  );
  expect(await openKeys(db.db)).toEqual(['missing_in_gateway:LATE']);
  // A later run over another day asks again about the open one; this time the gateway knows it.
  const asked: string[][] = [];
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-24T08:00:00Z', run2),
    selection('2026-11-23', '2026-11-23'),
    {
      lookup: async (_p, ids) => {
        asked.push(ids);
        await insertGateway(db.db, [{ id: 'LATE', time: '2026-11-19T10:00:00Z' }]);
      },
    },
  );
  expect(asked).toEqual([['LATE']]);
  expect(await openKeys(db.db)).toEqual([]);
  const d = await db.db.selectFrom('discrepancies').select('close_reason').executeTakeFirstOrThrow();
  expect(d.close_reason).toBe('found at the gateway on 2026-11-24');
});

test('an abort during the match leaves nothing half written', async () => {
  await insertGateway(db.db, [{ id: 'P1', time: '2026-11-20T10:00:00Z' }]);
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'P1', gross: 1200 }]);
  const ac = new AbortController();
  const run = await newRun(db.db);
  const ctx = { ...stageContext(db, testConfig(), '2026-11-30T08:00:00Z', run), signal: ac.signal };
  // Aborted while the gateway is being asked: the transaction that follows never commits.
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'UNKNOWN' }]);
  const p = matchRange(ctx, selection('2026-11-20', '2026-11-20'), {
    lookup: () => {
      ac.abort(new Error('stop'));
      return Promise.resolve();
    },
  });
  await expect(p).rejects.toThrow('stop');
  expect(await db.db.selectFrom('matches').selectAll().execute()).toEqual([]);
  expect(await db.db.selectFrom('discrepancies').selectAll().execute()).toEqual([]);
  // The same run again, not aborted, completes.
  const s = await matchRange(
    stageContext(db, testConfig(), '2026-11-30T08:00:00Z', run),
    selection('2026-11-20', '2026-11-20'),
  );
  expect(s.opened).toBe(2);
});

test('a movement left awaiting is judged by the next run, though its deadline fell on a night without a run', async () => {
  // Tuesday 17th: due Friday 20th (3 business days).
  await insertGateway(db.db, [{ id: 'GAP', time: '2026-11-17T10:00:00Z' }]);
  const config = testConfig();
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-20T06:00:00Z', run1),
    selection('2026-11-19', '2026-11-19'),
  );
  expect(await awaitingOfRun(run1)).toEqual([['GAP', '2026-11-20']]);
  // The night of the 20th had no run; Monday's covers the 23rd only, whose window starts with movements of the 18th.
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-24T06:00:00Z', run2),
    selection('2026-11-23', '2026-11-23'),
  );
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:GAP']);
  // Reported once: the next run has nothing more to say about it.
  const run3 = await newRun(db.db);
  const s3 = await matchRange(
    stageContext(db, config, '2026-11-25T06:00:00Z', run3),
    selection('2026-11-24', '2026-11-24'),
  );
  expect(s3.opened).toBe(0);
});

test('a movement left awaiting that settled on a night without a run is not carried, and not missing', async () => {
  await insertGateway(db.db, [{ id: 'LATE', time: '2026-11-17T10:00:00Z' }]);
  const config = testConfig();
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-20T06:00:00Z', run1),
    selection('2026-11-19', '2026-11-19'),
  );
  await insertFile(db.db, 'payunity', '2026-11-20', [{ tid: 'LATE' }]);
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-24T06:00:00Z', run2),
    selection('2026-11-23', '2026-11-23'),
  );
  expect(await openKeys(db.db)).toEqual([]);
});

test('lines without a transaction id: each is reported, none merged away, and a later run keeps them open', async () => {
  const config = testConfig();
  const fileId = await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: null, mref: 'ORD-X', gross: 1000 },
    { tid: null, mref: 'ORD-X', kind: 'refund', gross: -300 },
    { tid: null, mref: null, gross: 200 },
    { tid: null, mref: null, gross: 50 },
  ]);
  const file = await db.db
    .selectFrom('settlement_files')
    .select('file_name')
    .where('id', '=', fileId)
    .executeTakeFirstOrThrow();
  const expected = [
    'missing_in_gateway:ref:ORD-X',
    `missing_in_gateway:line:${file.file_name}:4`,
    `missing_in_gateway:line:${file.file_name}:5`,
  ].sort();
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-21T08:00:00Z', run1),
    selection('2026-11-20', '2026-11-20'),
  );
  expect(await openKeys(db.db)).toEqual(expected);
  const byKey = new Map((await openDiscrepancies(db.db)).map((d) => [d.transaction_id, d]));
  // The two lines of one reference are one row: what settled under it, and both lines named.
  const ref = byKey.get('ref:ORD-X');
  expect(Number(ref?.settled_amount_minor)).toBe(700);
  expect(ref?.detail).toBe(
    `2 lines unknown at the gateway: payment line 2 of ${file.file_name} (10.00 EUR), ` +
      `refund line 3 of ${file.file_name} (-3.00 EUR)`,
  );
  expect(Number(byKey.get(`line:${file.file_name}:5`)?.settled_amount_minor)).toBe(50);

  // A run over another day re-checks them from their lines: they stay open.
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-24T08:00:00Z', run2),
    selection('2026-11-23', '2026-11-23'),
  );
  expect(await openKeys(db.db)).toEqual(expected);
});
