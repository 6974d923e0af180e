// Matching at scale: PAYRECON_BENCH=1 PAYRECON_TEST_NO_BUILD=1 npx vitest run test/reconcile/match-bench.test.ts
// (BENCH_N sets the number of payments, default 1,000,000). Prints timings; asserts only the counts, never times.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { matchRange } from '../../src/reconcile/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { newRun, selection, stageContext, testConfig } from './fixtures.js';

const enabled = process.env.PAYRECON_BENCH === '1';
const N = Number(process.env.BENCH_N ?? 1_000_000);
let db: TestDb;

beforeAll(async () => {
  if (enabled) db = await createTestDb();
}, 600_000);
afterAll(async () => {
  if (enabled) await db.drop();
});

test.skipIf(!enabled)(`match ${N} payments against a plain full outer join`, { timeout: 1_800_000 }, async () => {
  const t0 = Date.now();
  // 30 days of payments, 1 in 100 unsettled, 1 in 200 settled with a different amount, 1 in 500 without an id.
  await sql`
    insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, root_payment_id,
      merchant_reference, amount_minor, currency, transaction_time, raw, content_hash)
    select 'payunity', 'T' || i, 'DB', 'payment', 'succeeded', 'T' || i, 'ORD-' || i, 1000 + i % 5000, 'EUR',
      timestamptz '2026-10-01 00:00:00+00' + (i::float / ${N} * 30) * interval '1 day', '{}', 'h'
    from generate_series(1, ${N}) i`.execute(db.db);
  await sql`
    insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status)
    select 'payunity', '/f' || d, 'f' || d, 1, lpad(d::text, 64, '0'), date '2026-10-01' + d, 'payunity', 'loaded'
    from generate_series(0, 40) d`.execute(db.db);
  await sql`
    insert into settlement_lines (file_id, line_no, provider, settlement_date, kind, transaction_id, merchant_reference,
      currency, gross_minor, fee_minor, net_minor, raw)
    select f.id, i, 'payunity', f.settlement_date, 'payment', case when i % 500 = 7 then null else 'T' || i end,
      'ORD-' || i, 'EUR', 1000 + i % 5000 + case when i % 200 = 3 then 1 else 0 end, 0,
      1000 + i % 5000 + case when i % 200 = 3 then 1 else 0 end, 'raw'
    from generate_series(1, ${N}) i
    join settlement_files f on f.settlement_date = (date '2026-10-01' + floor(i::float / ${N} * 30)::int + 1)
    where i % 100 <> 0`.execute(db.db);
  await sql`analyze`.execute(db.db);
  const load = Date.now() - t0;

  const b0 = Date.now();
  const base = await sql<{ n: number }>`
    select count(*)::int as n from (select * from settlement_lines where settlement_date between '2026-10-02' and '2026-10-31') l
    full outer join (select * from gateway_transactions where transaction_time >= '2026-09-25' and transaction_time < '2026-11-01') g
      on g.provider = l.provider and g.transaction_id = l.transaction_id`.execute(db.db);
  const baseline = Date.now() - b0;

  const config = testConfig();
  const run = await newRun(db.db);
  const m0 = Date.now();
  const s = await matchRange(stageContext(db, config, '2026-11-10T12:00:00Z', run), selection('2026-10-01', '2026-10-31', ['payunity']));
  const first = Date.now() - m0;
  const run2 = await newRun(db.db);
  const r0 = Date.now();
  const s2 = await matchRange(stageContext(db, config, '2026-11-10T12:00:00Z', run2), selection('2026-10-01', '2026-10-31', ['payunity']));
  const rerun = Date.now() - r0;
  process.stderr.write(`${JSON.stringify({ N, loadMs: load, baselineRows: base.rows[0]?.n, baselineMs: baseline, firstMatchMs: first, rerunMs: rerun, ratioFirst: +(first / baseline).toFixed(2), ratioRerun: +(rerun / baseline).toFixed(2), summary: s })}\n`);
  expect(s.discrepancies.missing_in_settlement).toBe(N / 100);
  expect(s.discrepancies.amount_mismatch).toBeGreaterThan(0);
  expect(s2.opened).toBe(0);
  expect(s2.closed).toBe(0);
});
