// A small, hand-made reconciliation written straight into a test database: two runs over the same dates, settlement
// files and lines (one rejected line with a card number, one rejected file), gateway records with chargebacks,
// matches, discrepancies of several types (with formula-looking text and 19-digit ids), awaiting movements and
// refund actions. Every figure the tests expect is derivable from the rows below.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { StageContext } from '../../src/jobs/context.js';
import type { TestDb } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';

export const LONG_ID = '1012411211459019141';
export const LONG_ID_2 = '9876543210987654321';
/** The Discrepancies header of reconciliation.md, stated here, not imported from src: the tests hold the contract. */
export const DISCREPANCY_COLUMNS = [
  'Discrepancy ID',
  'Provider',
  'Type',
  'Transaction ID',
  'Payment ID',
  'Merchant reference',
  'Transaction date',
  'Settlement date',
  'Currency',
  'Gateway amount',
  'Settled amount',
  'Difference',
  'Age (business days)',
  'Aging bucket',
  'Detail',
  'Suggested action',
  'Action',
];

export const INJECTIONS = ['=HYPERLINK("http://evil.example","click")', '+SUM(A1:A2)', '-2+3', '@SUM(1,1)'];

export function testConfig(reportsDir: string, extra: Record<string, unknown> = {}): Config {
  return parseConfig(
    {
      timezone: 'Europe/Berlin',
      holidays: ['2026-11-18'],
      reports: { dir: reportsDir },
      providers: {
        payunity: {
          baseUrl: 'http://127.0.0.1:9',
          entityId: 'e',
          accessToken: 't',
          settlement: { source: 'local', localDir: '/tmp' },
        },
        useepay: {
          baseUrl: 'http://127.0.0.1:9',
          merchantNo: '1',
          appId: 'a',
          apiKey: 'k',
          settlement: { source: 'local', localDir: '/tmp' },
        },
      },
      ...extra,
    },
    {},
  ).config;
}

export function stageContext(tdb: TestDb, config: Config, runId: number | null = null): StageContext {
  return testStageContext(tdb, config, { runId, now: '2026-11-23T07:00:00Z' });
}

export function tmpReportsDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'payrecon-report-'));
}

export interface Seeded {
  prevRunId: number;
  runId: number;
}

async function q(pool: pg.Pool, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return pool.query(text, values);
}

export async function seed(pool: pg.Pool): Promise<Seeded> {
  const mkRun = async (startedAt: string, manifest: object) =>
    (
      await q(
        pool,
        `insert into runs (command, from_date, to_date, providers, status, started_at, finished_at, tool_version, manifest, counts)
      values ('run', '2026-11-19', '2026-11-20', '{payunity,useepay}', 'succeeded', $1, $1::timestamptz + interval '90 seconds', '0.1.0', $2, $3) returning id`,
        [
          startedAt,
          JSON.stringify(manifest),
          JSON.stringify({ matched: 4, discrepancies: { amount_mismatch: 1 } }),
        ],
      )
    ).rows[0].id as number;
  const prevRunId = await mkRun('2026-11-22T06:00:00Z', {});
  const runId = await mkRun('2026-11-23T06:00:00Z', {
    asOf: '2026-11-23',
    lateFiles: [
      {
        provider: 'payunity',
        settlementDate: '2026-11-20',
        expectedBy: '2026-11-20T12:00:00+01:00',
        status: 'late',
      },
    ],
    stageTimings: { fetch: 1200, match: 300 },
    files: [{ name: 'should-not-show-when-the-table-has-rows.csv' }],
  });

  // Settlement files: payunity (one rejected line), useepay (ok), and a useepay file rejected whole.
  const file = async (
    provider: string,
    name: string,
    status: string,
    lineCount: number,
    loaded: number,
    rejected: number,
    reason: string | null = null,
  ) =>
    (
      await q(
        pool,
        `insert into settlement_files (provider, remote_path, file_name, size, sha256, settlement_date, profile, status, reject_reason, line_count, loaded_count, rejected_count, run_id)
      values ($1, '/out/' || $2, $2, 100, repeat(substr(md5($2), 1, 1), 64), '2026-11-19', $1, $3, $4, $5, $6, $7, $8) returning id`,
        [provider, name, status, reason, lineCount, loaded, rejected, runId],
      )
    ).rows[0].id as number;
  const f1 = await file('payunity', 'PAYUNITY_SETTLEMENT_e_20261119.csv', 'loaded', 5, 4, 1);
  const f2 = await file('useepay', 'useepay_settlement_1_2026-11-19.csv', 'loaded', 3, 3, 0);
  await file('useepay', 'useepay_settlement_1_2026-11-19.csv.gz', 'rejected', 0, 0, 0, 'not a gzip file');
  await q(
    pool,
    `insert into rejected_lines (file_id, line_no, reason, raw) values ($1, 6, 'bad amount "12,3"', '2026-11-19;B1;SETTLED;x;;=cmd|calc;DB;card 4111111111111111;EUR;12,3;0;0')`,
    [f1],
  );

  const line = async (
    fileId: number,
    no: number,
    provider: string,
    kind: string,
    txn: string | null,
    cur: string,
    gross: number,
    fee: number,
    batch: string,
  ) =>
    (
      await q(
        pool,
        `insert into settlement_lines (file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id, currency, gross_minor, fee_minor, net_minor, raw)
      values ($1, $2, $3, '2026-11-19', $4, $5, $6, $7, $8, $9, $8::bigint - $9::bigint, 'raw') returning id`,
        [fileId, no, provider, batch, kind, txn, cur, gross, fee],
      )
    ).rows[0].id as number;
  const l1 = await line(f1, 2, 'payunity', 'payment', 'abc', 'EUR', 9300, 270, 'B1');
  const l2 = await line(f1, 3, 'payunity', 'refund', 'rf1', 'EUR', -1000, 0, 'B1');
  await line(f1, 4, 'payunity', 'fee', null, 'EUR', 0, 1500, 'B1');
  const l4 = await line(f1, 5, 'payunity', 'chargeback', 'cb1', 'EUR', -2500, 1500, 'B1');
  const l5 = await line(f2, 2, 'useepay', 'payment', LONG_ID, 'JPY', 5000, 150, 'SB-1');
  await line(f2, 3, 'useepay', 'chargeback', 'cbx', 'JPY', -700, 0, 'SB-1');
  await line(f2, 4, 'useepay', 'payment', LONG_ID_2, 'KWD', 1234, 37, 'SB-2');

  const gw = async (
    provider: string,
    id: string,
    type: string,
    kind: string,
    status: string,
    amount: number | null,
    cur: string | null,
    at: string,
    ref: string | null = null,
  ) =>
    q(
      pool,
      `insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, referenced_id, root_payment_id, amount_minor, currency, transaction_time, raw, content_hash, merchant_reference)
      values ($1, $2, $3, $4, $5, $6, coalesce($6, $2), $7, $8, $9, '{}', 'h', 'ORD-' || $2)`,
      [provider, id, type, kind, status, ref, amount, cur, at],
    );
  await gw('payunity', 'abc', 'DB', 'payment', 'succeeded', 9200, 'EUR', '2026-11-19T10:00:00Z');
  await gw('payunity', 'rf1', 'RF', 'refund', 'succeeded', -1000, 'EUR', '2026-11-19T12:00:00Z', 'abc');
  await gw('payunity', 'cb1', 'CB', 'chargeback', 'chargeback', null, null, '2026-11-20T09:00:00Z', 'abc');
  await gw(
    'payunity',
    'cr1',
    'CR',
    'chargeback_reversal',
    'succeeded',
    9200,
    'EUR',
    '2026-11-20T23:30:00Z',
    'abc',
  ); // 00:30 on the 21st in Berlin: out of range
  await gw(
    'payunity',
    'cr2',
    'CR',
    'chargeback_reversal',
    'succeeded',
    9200,
    'EUR',
    '2026-11-18T23:30:00Z',
    'abc',
  ); // 00:30 on the 19th in Berlin: in range
  await gw('payunity', 'pend', 'DB', 'payment', 'pending', 500, 'EUR', '2026-11-19T10:00:00Z');
  await gw('payunity', 'pd', 'DB', 'payment', 'succeeded', 700, 'EUR', '2026-11-19T11:00:00Z'); // reversed below: moves nothing
  await gw('payunity', 'rv1', 'RV', 'reversal', 'succeeded', 700, 'EUR', '2026-11-19T11:05:00Z', 'pd');
  await gw('useepay', LONG_ID, 'payment_intent', 'payment', 'failed', 5000, 'JPY', '2026-11-20T08:00:00Z');
  await gw('useepay', 'pi2', 'payment_intent', 'payment', 'succeeded', 3000, 'JPY', '2026-11-20T08:00:00Z');

  const match = (lineId: number, provider: string, txn: string, type: string) =>
    q(
      pool,
      `insert into matches (settlement_line_id, provider, transaction_id, gateway_type, match_key, run_id) values ($1, $2, $3, $4, 'transaction_id', $5)`,
      [lineId, provider, txn, type, runId],
    );
  await match(l1, 'payunity', 'abc', 'DB');
  await match(l2, 'payunity', 'rf1', 'RF');
  await match(l4, 'payunity', 'cb1', 'CB');
  await match(l5, 'useepay', LONG_ID, 'payment_intent');

  const disc = (
    id: string,
    provider: string,
    type: string,
    txn: string,
    ref: string | null,
    txTime: string | null,
    sDate: string | null,
    cur: string,
    g: number | null,
    s: number | null,
    refundable: number | null,
    detail: string,
    status = 'open',
  ) =>
    q(
      pool,
      `insert into discrepancies (id, provider, type, transaction_id, payment_id, merchant_reference, transaction_time, settlement_date, currency, gateway_amount_minor, settled_amount_minor, difference_minor, refundable_minor, detail, status, opened_run_id, closed_at, close_reason)
      values ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, coalesce($10::bigint, 0) - coalesce($9::bigint, 0), $11, $12, $13::text, $14, case when $13::text = 'closed' then '2026-11-23T06:01:00Z'::timestamptz end, case when $13::text = 'closed' then 'settled late on 2026-11-21' end)`,
      [id, provider, type, txn, ref, txTime, sDate, cur, g, s, refundable, detail, status, prevRunId],
    );
  await disc(
    'D000000000000001',
    'payunity',
    'amount_mismatch',
    'abc',
    INJECTIONS[0]!,
    '2026-11-16T10:00:00Z',
    '2026-11-19',
    'EUR',
    9200,
    9300,
    100,
    'settled 1.00 more',
  );
  await disc(
    'D000000000000002',
    'useepay',
    'status_mismatch',
    LONG_ID,
    INJECTIONS[1]!,
    '2026-11-20T08:00:00Z',
    '2026-11-19',
    'JPY',
    5000,
    5000,
    5000,
    'payment failed at the gateway',
  );
  await disc(
    'D000000000000003',
    'useepay',
    'missing_in_gateway',
    LONG_ID_2,
    INJECTIONS[2]!,
    null,
    '2026-11-19',
    'KWD',
    null,
    1234,
    null,
    INJECTIONS[3]!,
  );
  await disc(
    'D000000000000004',
    'payunity',
    'missing_in_settlement',
    'rf0',
    'ORD-9',
    '2026-11-05T10:00:00Z',
    null,
    'EUR',
    -1000,
    null,
    null,
    'refund not settled',
  );
  await disc(
    'D000000000000005',
    'payunity',
    'fee_mismatch',
    'abc',
    'ORD-abc',
    '2026-11-19T10:00:00Z',
    '2026-11-19',
    'EUR',
    295,
    270,
    null,
    'fee differs from schedule',
  );
  await disc(
    'D000000000000006',
    'payunity',
    'missing_in_settlement',
    'old1',
    'ORD-old',
    '2026-11-12T10:00:00Z',
    null,
    'EUR',
    700,
    null,
    null,
    'payment not settled',
    'closed',
  );

  const rd = (run: number, id: string, change: string) =>
    q(pool, `insert into run_discrepancies (run_id, discrepancy_id, change) values ($1, $2, $3)`, [
      run,
      id,
      change,
    ]);
  await rd(prevRunId, 'D000000000000004', 'opened');
  await rd(prevRunId, 'D000000000000006', 'opened');
  for (const [id, change] of [
    ['1', 'opened'],
    ['2', 'opened'],
    ['3', 'opened'],
    ['4', 'unchanged'],
    ['5', 'opened'],
    ['6', 'closed'],
  ] as const) {
    await rd(runId, `D00000000000000${id}`, change);
  }

  await q(
    pool,
    `insert into run_awaiting (run_id, provider, transaction_id, gateway_type, kind, merchant_reference, currency, amount_minor, transaction_time, deadline) values
    ($1, 'payunity', 'aw1', 'DB', 'payment', 'ORD-aw1', 'EUR', 4200, '2026-11-20T15:00:00Z', '2026-11-25'),
    ($1, 'useepay', 'aw2', 'refund', 'refund', '@aw2', 'JPY', -300, '2026-11-20T16:00:00Z', '2026-11-24')`,
    [runId],
  );
  await q(
    pool,
    `insert into refund_actions (idempotency_key, discrepancy_id, run_id, provider, payment_id, amount_minor, currency, state, planned_at) values
    ('prc-D000000000000001-1', 'D000000000000001', $1, 'payunity', 'abc', 100, 'EUR', 'planned', '2026-11-23T06:02:00Z'),
    ('prc-D000000000000002-1', 'D000000000000002', $1, 'useepay', $2, 5000, 'JPY', 'succeeded', '2026-11-23T06:03:00Z')`,
    [runId, LONG_ID],
  );
  await q(
    pool,
    `insert into pull_windows (run_id, provider, endpoint, window_from, window_to, record_count) values
    ($1, 'payunity', 'query', '2026-11-11T23:00:00Z', '2026-11-20T23:00:00Z', 6),
    ($1, 'useepay', 'payment_intents', '2026-11-11T23:00:00Z', '2026-11-20T23:00:00Z', 2)`,
    [runId],
  );
  return { prevRunId, runId };
}
