// A movement past its deadline stays awaiting, not missing_in_settlement, while a settlement file of its provider
// that could hold its line was listed by the run's fetch and left unloaded (src/reconcile/held.ts).
import { expect, test } from 'vitest';
import { heldDetail, matchRange, type UnloadedSettlementFile } from '../../src/reconcile/index.js';
import { testDbPerTest } from '../helpers/db.js';
import {
  insertFile,
  insertGateway,
  newRun,
  openKeys,
  selection,
  stageContext,
  testConfig,
} from './fixtures.js';

const db = testDbPerTest();
const config = testConfig();
const REASON = 'permission denied: not loaded; the next fetch takes it again';
const LEFT = 'PAYUNITY_SETTLEMENT_e_20261119.csv';
/** Thursday the 26th: every movement below is past its deadline (payunity 3, useepay 2 business days). */
const NOW = '2026-11-26T08:00:00Z';
const RANGE = selection('2026-11-16', '2026-11-20');

const left = (settlementDate: string | null, file = LEFT): UnloadedSettlementFile => ({
  provider: 'payunity',
  settlementDate,
  file,
  reason: REASON,
});

/** What a run recorded as awaiting: transaction id, deadline and the file that holds it. */
async function awaitingOfRun(runId: number) {
  const rows = await db.db
    .selectFrom('run_awaiting')
    .select(['transaction_id', 'deadline', 'held_file', 'held_date', 'held_reason'])
    .where('run_id', '=', runId)
    .orderBy('transaction_id')
    .execute();
  return rows.map((r) => [r.transaction_id, r.deadline, r.held_file, r.held_date, r.held_reason]);
}

test('holds the movements whose window [transaction date, deadline] includes the left file date, and only those', async () => {
  // An earlier run found O missing: it stays open, whatever this run's fetch left.
  await insertGateway(db.db, [{ id: 'O', time: '2026-11-17T10:00:00Z' }]);
  await matchRange(stageContext(db, config, NOW, await newRun(db.db)), RANGE);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:O']);

  await insertGateway(db.db, [
    // Monday the 16th, due Thursday the 19th: the file's date is its deadline.
    { id: 'A', time: '2026-11-16T10:00:00Z' },
    // Thursday the 19th, due Tuesday the 24th: the file's date is its transaction date.
    { id: 'A2', time: '2026-11-19T23:00:00Z', amount: -250, type: 'RF', kind: 'refund', ref: 'A' },
    // Friday the 13th, due Wednesday the 18th: its window ends before the 19th.
    { id: 'C', time: '2026-11-13T10:00:00Z' },
    // Friday the 20th, due Wednesday the 25th: its window starts after the 19th.
    { id: 'B', time: '2026-11-20T10:00:00Z' },
    // UseePay's, Wednesday the 18th, due Friday the 20th: the left file is PayUnity's.
    { id: 'U', provider: 'useepay', type: 'payment_intent', time: '2026-11-18T10:00:00Z' },
  ]);
  const run = await newRun(db.db);
  const s = await matchRange(stageContext(db, config, NOW, run), RANGE, {}, [left('2026-11-19')]);

  expect(await openKeys(db.db)).toEqual([
    'missing_in_settlement:B',
    'missing_in_settlement:C',
    'missing_in_settlement:O',
    'missing_in_settlement:U',
  ]);
  expect(await awaitingOfRun(run)).toEqual([
    ['A', '2026-11-19', LEFT, '2026-11-19', REASON],
    ['A2', '2026-11-24', LEFT, '2026-11-19', REASON],
  ]);
  expect(s.awaitingSettlement).toEqual({ count: 2, byCurrency: { EUR: { count: 2, amountMinor: 750 } } });
  expect(s.discrepancies.missing_in_settlement).toBe(4);
  const detail = `past its settlement deadline, but its settlement file ${LEFT} for 2026-11-19 arrived and was not loaded: ${REASON}`;
  expect(s.awaitingHeld).toEqual([
    {
      provider: 'payunity',
      file: LEFT,
      settlementDate: '2026-11-19',
      reason: REASON,
      count: 2,
      byCurrency: { EUR: { count: 2, amountMinor: 750 } },
      detail,
    },
  ]);
  expect(heldDetail({ file: LEFT, settlementDate: '2026-11-19', reason: REASON })).toBe(detail);
});

test('a left file holds a movement at most a week past its deadline: then it is missing, left file or not', async () => {
  await insertGateway(db.db, [
    // Friday the 13th, due Wednesday the 18th: eight days past its deadline on the 26th.
    { id: 'C', time: '2026-11-13T10:00:00Z' },
    // Monday the 16th, due Thursday the 19th: seven days past it.
    { id: 'A', time: '2026-11-16T10:00:00Z' },
  ]);
  const run = await newRun(db.db);
  await matchRange(stageContext(db, config, NOW, run), RANGE, {}, [
    left('2026-11-18', 'PAYUNITY_SETTLEMENT_e_20261118.csv'),
    left(null, 'settle_upload.txt'),
  ]);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:C']);
  expect((await awaitingOfRun(run)).map((r) => [r[0], r[2]])).toEqual([
    ['A', 'PAYUNITY_SETTLEMENT_e_20261118.csv'],
  ]);
});

test('a left file without a date holds every movement of its provider past its deadline; a dated one is named first', async () => {
  await insertGateway(db.db, [
    { id: 'A', time: '2026-11-16T10:00:00Z' },
    { id: 'C', time: '2026-11-20T10:00:00Z' },
    { id: 'U', provider: 'useepay', type: 'payment_intent', time: '2026-11-18T10:00:00Z' },
  ]);
  const run = await newRun(db.db);
  const s = await matchRange(stageContext(db, config, NOW, run), RANGE, {}, [
    left(null, 'settle_upload.txt'),
    left('2026-11-19'),
  ]);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:U']);
  expect(await awaitingOfRun(run)).toEqual([
    ['A', '2026-11-19', LEFT, '2026-11-19', REASON],
    ['C', '2026-11-25', 'settle_upload.txt', null, REASON],
  ]);
  expect(s.awaitingHeld.map((h) => [h.file, h.count, h.detail])).toEqual([
    [LEFT, 1, expect.stringContaining(`${LEFT} for 2026-11-19 arrived`)],
    [
      'settle_upload.txt',
      1,
      `past its settlement deadline, but its settlement file settle_upload.txt for a date its name does not give arrived and was not loaded: ${REASON}`,
    ],
  ]);
});

test('the next nightly run, after the left file loaded, matches what it held: no discrepancy', async () => {
  // Monday the 16th, due Thursday the 19th; the run for the 19th, on the 20th, finds the file of the 18th left.
  await insertGateway(db.db, [{ id: 'A', time: '2026-11-16T10:00:00Z' }]);
  const run1 = await newRun(db.db);
  await matchRange(
    stageContext(db, config, '2026-11-20T03:00:00Z', run1),
    selection('2026-11-19', '2026-11-19'),
    {},
    [left('2026-11-18', 'PAYUNITY_SETTLEMENT_e_20261118.csv')],
  );
  expect(await openKeys(db.db)).toEqual([]);
  expect((await awaitingOfRun(run1)).map((r) => r[0])).toEqual(['A']);

  // The next night's fetch loads it; the run is for the 20th, a date after A's deadline.
  await insertFile(db.db, 'payunity', '2026-11-18', [{ tid: 'A' }]);
  const run2 = await newRun(db.db);
  const s = await matchRange(
    stageContext(db, config, '2026-11-21T03:00:00Z', run2),
    selection('2026-11-20', '2026-11-20'),
  );
  expect(await openKeys(db.db)).toEqual([]);
  expect(s.opened).toBe(0);
  const matched = await db.db
    .selectFrom('matches')
    .select(['transaction_id', 'match_key', 'run_id'])
    .execute();
  expect(matched).toEqual([{ transaction_id: 'A', match_key: 'transaction_id', run_id: run2 }]);
  expect(await awaitingOfRun(run2)).toEqual([]);
});

test('a run that fetched nothing, or whose left file is of the other provider, holds nothing', async () => {
  await insertGateway(db.db, [{ id: 'A', time: '2026-11-16T10:00:00Z' }]);
  const run = await newRun(db.db);
  const s = await matchRange(stageContext(db, config, NOW, run), selection('2026-11-16', '2026-11-20'), {}, [
    { ...left('2026-11-19'), provider: 'useepay' },
  ]);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:A']);
  expect(s.awaitingHeld).toEqual([]);
  expect(await awaitingOfRun(run)).toEqual([]);
});
