// Matching reads what the loads and pulls just wrote: every table it joins has statistics first, the settlement
// files too (a month of them is fewer rows than autovacuum's analyze threshold, so nothing else would analyse them).
import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { matchRange } from '../../src/reconcile/index.js';
import { testDbPerTest } from '../helpers/db.js';
import {
  insertFile,
  insertGateway,
  newRun,
  nov20,
  PAST_DEADLINES,
  selection,
  stageContext,
  testConfig,
} from './fixtures.js';

const db = testDbPerTest();

/** pg_class.reltuples: -1 until the table is first vacuumed or analysed, then its row count. */
async function reltuples(table: string): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select reltuples::int as n from pg_class where relname = ${table}`.execute(db.db);
  return r.rows[0]!.n;
}

test('matching analyses the settlement files, lines and gateway records before it reads them', async () => {
  await insertGateway(db.db, [{ id: 'A', time: nov20(8) }]);
  for (const tid of ['A', 'B', 'C']) await insertFile(db.db, 'payunity', '2026-11-20', [{ tid }]);
  for (const t of ['settlement_files', 'settlement_lines', 'gateway_transactions'])
    expect(await reltuples(t), t).toBe(-1);

  const run = await newRun(db.db);
  await matchRange(
    stageContext(db, testConfig(), PAST_DEADLINES, run),
    selection('2026-11-20', '2026-11-20'),
  );

  expect(await reltuples('settlement_files')).toBe(3);
  expect(await reltuples('settlement_lines')).toBe(3);
  expect(await reltuples('gateway_transactions')).toBe(1);
});
