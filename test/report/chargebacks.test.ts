// The Chargebacks sheet finds a chargeback's settled line both ways the matcher pairs one: by the line's transaction
// id, and by merchant reference when the line has no usable id. The shared fixture only has the first; this adds a
// chargeback whose line carries no id and was matched by merchant reference.
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { seed, stageContext, testConfig, tmpReportsDir, type Seeded } from './fixture.js';

const tdb = testDbPerSuite();
let seeded: Seeded;
/** Data rows keyed by the sheet's own header row. */
let rows: Record<string, unknown>[];

beforeAll(async () => {
  seeded = await seed(tdb.pool);
  const q = (text: string, values: unknown[] = []) => tdb.pool.query(text, values);
  await q(
    `insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, referenced_id, root_payment_id,
       amount_minor, currency, transaction_time, raw, content_hash, merchant_reference)
     values ('payunity', 'cb2', 'CB', 'chargeback', 'chargeback', 'abc', 'abc', -3000, 'EUR', '2026-11-19T15:00:00Z',
       '{}', 'h', 'ORD-abc')`,
  );
  // A chargeback that does not repeat the merchant's reference: its payment's is shown.
  await q(
    `insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, referenced_id, root_payment_id,
       amount_minor, currency, transaction_time, raw, content_hash, merchant_reference)
     values ('payunity', 'cb3', 'CB', 'chargeback', 'chargeback', 'abc', 'abc', -1000, 'EUR', '2026-11-19T16:00:00Z',
       '{}', 'h', null)`,
  );
  const file = await q(
    `select id from settlement_files where file_name = 'PAYUNITY_SETTLEMENT_e_20261119.csv'`,
  );
  const line = await q(
    `insert into settlement_lines (file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id,
       merchant_reference, currency, gross_minor, fee_minor, net_minor, raw)
     values ($1, 9, 'payunity', '2026-11-20', 'B1', 'chargeback', null, 'ORD-abc', 'EUR', -3000, 0, -3000, 'raw')
     returning id`,
    [file.rows[0].id],
  );
  await q(
    `insert into matches (settlement_line_id, provider, transaction_id, gateway_type, match_key, run_id)
     values ($1, 'payunity', 'cb2', 'CB', 'merchant_reference', $2)`,
    [line.rows[0].id, seeded.runId],
  );
  // A chargeback of early November, settled by a line of the run's dates: listed too.
  await q(
    `insert into gateway_transactions (provider, transaction_id, gateway_type, kind, status, referenced_id, root_payment_id,
       amount_minor, currency, transaction_time, raw, content_hash, merchant_reference)
     values ('payunity', 'cb4', 'CB', 'chargeback', 'chargeback', 'abc', 'abc', -500, 'EUR', '2026-11-02T09:00:00Z',
       '{}', 'h', 'ORD-abc')`,
  );
  const early = await q(
    `insert into settlement_lines (file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id,
       merchant_reference, currency, gross_minor, fee_minor, net_minor, raw)
     values ($1, 10, 'payunity', '2026-11-20', 'B1', 'chargeback', 'cb4', 'ORD-abc', 'EUR', -500, 0, -500, 'raw')
     returning id`,
    [file.rows[0].id],
  );
  await q(
    `insert into matches (settlement_line_id, provider, transaction_id, gateway_type, match_key, run_id)
     values ($1, 'payunity', 'cb4', 'CB', 'transaction_id', $2)`,
    [early.rows[0].id, seeded.runId],
  );
  const report = await writeReport(stageContext(tdb, testConfig(tmpReportsDir())), seeded.runId);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  const ws = wb.getWorksheet('Chargebacks')!;
  const headers = (ws.getRow(1).values as unknown[]).slice(1) as string[];
  rows = [];
  ws.eachRow((r, n) => {
    const values = (r.values as unknown[]).slice(1);
    if (n > 1) rows.push(Object.fromEntries(headers.map((h, i) => [h, values[i]])));
  });
});

describe('the Chargebacks sheet', () => {
  it("shows a chargeback matched by merchant reference as settled, with its line; the payment's reference; one of an earlier date settled in the range", () => {
    const brief = rows.map((r) => [
      r['Transaction ID'],
      r['Merchant reference'],
      r['Gateway amount'],
      r['Settlement date'],
      r['Settled amount'],
      r['Settled'],
    ]);
    expect(brief).toEqual([
      ['cb4', 'ORD-abc', -5, new Date('2026-11-20T00:00:00Z'), -5, 'yes'],
      ['cr2', 'ORD-cr2', 92, undefined, undefined, 'no'],
      ['cb2', 'ORD-abc', -30, new Date('2026-11-20T00:00:00Z'), -30, 'yes'],
      ['cb3', 'ORD-abc', -10, undefined, undefined, 'no'],
      ['cb1', 'ORD-cb1', -92, new Date('2026-11-19T00:00:00Z'), -25, 'yes'],
      ['cbx', undefined, undefined, new Date('2026-11-19T00:00:00Z'), -700, 'no gateway record'],
    ]);
  });
});
