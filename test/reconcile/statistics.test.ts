// Matching reads what the loads and pulls just wrote: every table it joins has statistics first, the settlement
// files too (a month of them is fewer rows than autovacuum's analyze threshold, so nothing else would analyse them),
// and the BRIN indexes a summary of every full block range (nothing else asks for one: migration 20261121130000).
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

/**
 * How many block ranges of the index's table had no summary, counted by summarising them now, and how many of those
 * are the table's last range when it is partial (fewer than 128 pages). brin_summarize_new_values takes that one too;
 * VACUUM leaves it, as autosummarize did (an insert asked for the range before the one it started).
 */
async function unsummarized(index: string, table: string): Promise<{ ranges: number; partial: number }> {
  const r = await sql<{ ranges: number; partial: number }>`
    select (pg_relation_size(${table}::regclass) / 8192 % 128 > 0)::int as partial,
      brin_summarize_new_values(${index}::regclass)::int as ranges`.execute(db.db);
  return r.rows[0]!;
}

test('matching leaves every full block range of the lines and gateway records with a BRIN summary', async () => {
  // Wide rows, so a few thousand fill more than two ranges of 128 pages each.
  const file = await insertFile(db.db, 'payunity', '2026-11-20', []);
  await sql`
    insert into settlement_lines (file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id,
      currency, gross_minor, fee_minor, net_minor, raw)
    select ${file}, i + 1, 'payunity', date '2026-11-20', 'B1', 'payment', 'L' || i, 'EUR', 1000, 0, 1000,
      repeat('x', 600)
    from generate_series(1, 5000) i`.execute(db.db);
  await sql`
    insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, root_payment_id,
      merchant_reference, amount_minor, currency, transaction_time, raw, content_hash)
    select 'payunity', 'G' || i, 'DB', 'payment', 'succeeded', 'G' || i, 'ORD-G' || i, 1000, 'EUR',
      timestamptz '2026-11-20 08:00:00+00' + i * interval '1 second', json_build_object('pad', repeat('x', 600)), 'x'
    from generate_series(1, 5000) i`.execute(db.db);
  const indexes = ['gateway_transactions_time_idx', 'settlement_lines_file_date_idx'];
  const options = await sql<{ relname: string; reloptions: string[] }>`
    select relname, reloptions from pg_class where relname in (${sql.join(indexes)}) order by relname`.execute(
    db.db,
  );
  expect(options.rows).toEqual(indexes.map((relname) => ({ relname, reloptions: ['autosummarize=off'] })));

  const run = await newRun(db.db);
  await matchRange(
    stageContext(db, testConfig(), PAST_DEADLINES, run),
    selection('2026-11-20', '2026-11-20'),
  );

  for (const [index, table] of [
    ['settlement_lines_file_date_idx', 'settlement_lines'],
    ['gateway_transactions_time_idx', 'gateway_transactions'],
  ] as const) {
    const { ranges, partial } = await unsummarized(index, table);
    expect(ranges, index).toBe(partial);
  }
});
