// One transaction id held by several gateway records: each line pairs with exactly one, the preferred one
// (docs/matching.md, key 1), and a rerun chooses the same.
import { expect, test } from 'vitest';
import { matchRange } from '../../src/reconcile/index.js';
import { testDbPerTest } from '../helpers/db.js';
import {
  insertFile,
  insertGateway,
  newRun,
  nov20,
  openKeys,
  PAST_DEADLINES,
  selection,
  stageContext,
  testConfig,
} from './fixtures.js';

const db = testDbPerTest();

const T = nov20;
const NOW = PAST_DEADLINES;

/** Each line's one record: the capture, the refund, the payment with an amount, the only record. */
const PAIRED = [
  'M1/CP/transaction_id',
  'M2/RF/transaction_id',
  'M3/CP/transaction_id',
  'S1/DB/transaction_id',
];

async function matchedRecords(): Promise<string[]> {
  const rows = await db.db
    .selectFrom('matches')
    .select(['transaction_id', 'gateway_type', 'match_key'])
    .orderBy('transaction_id')
    .orderBy('gateway_type')
    .execute();
  return rows.map((r) => `${r.transaction_id}/${r.gateway_type}/${r.match_key}`);
}

test('a line whose id several records share pairs once, with the record whose kind fits', async () => {
  await insertGateway(db.db, [
    { id: 'S1', time: T(8) },
    // An authorization and a capture under one id: the payment line takes the capture.
    { id: 'M1', type: 'PA', kind: 'authorization', time: T(8) },
    { id: 'M1', type: 'CP', time: T(9) },
    // A refund line takes the refund, though DB sorts before RF; the payment is then unsettled.
    { id: 'M2', type: 'DB', time: T(8) },
    { id: 'M2', type: 'RF', kind: 'refund', time: T(9), amount: -300 },
    // Same kind twice: the one with an amount, then the gateway type in a fixed order.
    { id: 'M3', type: 'DB', time: T(8), amount: null },
    { id: 'M3', type: 'CP', time: T(8) },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-20', [
    { tid: 'S1' },
    { tid: 'M1' },
    { tid: 'M2', kind: 'refund', gross: -300 },
    { tid: 'M3' },
  ]);

  const run = await newRun(db.db);
  const ctx = stageContext(db, testConfig(), NOW, run);
  const first = await matchRange(ctx, selection('2026-11-20', '2026-11-20', ['payunity']));
  expect(first.matched).toBe(4);
  expect(await matchedRecords()).toEqual(PAIRED);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:M2']);

  const again = await matchRange(
    stageContext(db, testConfig(), NOW, await newRun(db.db)),
    selection('2026-11-20', '2026-11-20', ['payunity']),
  );
  expect(again.matched).toBe(4);
  expect(await matchedRecords()).toEqual(PAIRED);
  expect(await openKeys(db.db)).toEqual(['missing_in_settlement:M2']);
});
