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
  db = await createTestDb();
}, 600_000);
afterAll(async () => {
  // BENCH_KEEP=1 keeps the benchmark's database for EXPLAIN (ANALYZE, BUFFERS) of single passes afterwards.
  if (enabled && process.env.BENCH_KEEP === '1') {
    process.stderr.write(`kept database ${db.name}\n`);
    await db.close();
  } else await db.drop();
});

// matches has no foreign key to settlement_lines (the per-row check dominated the first match of a large range):
// a statement trigger deletes the matches of deleted lines, whether deleted directly (a superseded file's lines)
// or through the cascade from settlement_files, and a truncate empties it. Runs before the benchmark's data.
test('the matches of deleted settlement lines go with them', async () => {
  const q = (text: string) => db.pool.query(text);
  await q(`insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status)
    select 'payunity', '/c' || d, 'c' || d, 1, lpad(d::text, 64, 'c'), date '2026-09-01' + d, 'payunity', 'loaded'
    from generate_series(1, 3) d`);
  await q(`insert into settlement_lines (file_id, line_no, provider, settlement_date, kind, transaction_id, currency,
      gross_minor, fee_minor, net_minor, raw)
    select f.id, i, 'payunity', f.settlement_date, 'payment', 'C' || f.id || '-' || i, 'EUR', 100, 0, 100, 'raw'
    from settlement_files f cross join generate_series(1, 4) i where f.remote_path like '/c%'`);
  const matchAll = () =>
    q(`insert into matches (settlement_line_id, provider, transaction_id, gateway_type, match_key)
    select id, provider, transaction_id, 'DB', 'transaction_id' from settlement_lines on conflict do nothing`);
  const count = async () => Number((await q('select count(*) as n from matches')).rows[0].n);
  await matchAll();
  expect(await count()).toBe(12);
  await q(
    `delete from settlement_lines where file_id = (select id from settlement_files where remote_path = '/c1')`,
  );
  expect(await count()).toBe(8);
  await q(`delete from settlement_files where remote_path = '/c2'`);
  expect(await count()).toBe(4);
  const left =
    await q(`select count(*) as n from matches m join settlement_lines l on l.id = m.settlement_line_id
    join settlement_files f on f.id = l.file_id where f.remote_path = '/c3'`);
  expect(Number(left.rows[0].n)).toBe(4);
  await q('truncate settlement_lines cascade');
  expect(await count()).toBe(0);
  await q('delete from settlement_files');
});

test.skipIf(!enabled)(
  `match ${N} payments against a plain full outer join`,
  { timeout: 1_800_000 },
  async () => {
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
    const s = await matchRange(
      stageContext(db, config, '2026-11-10T12:00:00Z', run),
      selection('2026-10-01', '2026-10-31', ['payunity']),
    );
    const first = Date.now() - m0;
    const run2 = await newRun(db.db);
    const r0 = Date.now();
    const s2 = await matchRange(
      stageContext(db, config, '2026-11-10T12:00:00Z', run2),
      selection('2026-10-01', '2026-10-31', ['payunity']),
    );
    const rerun = Date.now() - r0;
    process.stderr.write(
      `${JSON.stringify({ N, loadMs: load, baselineRows: base.rows[0]?.n, baselineMs: baseline, firstMatchMs: first, rerunMs: rerun, ratioFirst: +(first / baseline).toFixed(2), ratioRerun: +(rerun / baseline).toFixed(2), summary: s })}\n`,
    );
    expect(s.discrepancies.missing_in_settlement).toBe(N / 100);
    expect(s.discrepancies.amount_mismatch).toBeGreaterThan(0);
    expect(s2.opened).toBe(0);
    expect(s2.closed).toBe(0);
  },
);
