// Refund holds in the workbook read back from a real database: the Discrepancies sheet says "refund held" exactly
// where `refunds plan` holds (one rule for the payment a hold concerns), a planned refund held since shows its hold,
// and a hold released by hand is shown as released on Discrepancies, Refund plan and Rejected lines.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { recordRejections } from '../../src/gateways/rejected-store.js';
import type { RejectedRecord } from '../../src/gateways/types.js';
import { releaseHold } from '../../src/refunds/hold-releases.js';
import { planRefunds } from '../../src/refunds/index.js';
import { writeReport } from '../../src/report/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import {
  hex32,
  seedDiscrepancy,
  seedGatewayTx,
  seedRun,
  stageContext,
  testConfig,
} from '../refunds/fixtures.js';

const db = testDbPerSuite();
const WINDOW = { from: new Date('2026-11-18T00:00:00Z'), to: new Date('2026-11-19T00:00:00Z') };

/** One pull of WINDOW met unreadable refunds of these payments: recorded together, as a pull records a window. */
async function reject(runId: number, holds: [holdId: string, recordId: string][]): Promise<number[]> {
  const rejected: RejectedRecord[] = holds.map(([holdId, recordId]) => ({
    provider: 'payunity',
    endpoint: 'v3/query',
    window: WINDOW,
    recordId,
    gatewayType: 'RF',
    referencedId: holdId,
    holdId,
    reason: 'amount "1.0001" has more decimals than EUR allows',
    raw: `{"id":"${recordId}"}`,
    rawHash: recordId,
  }));
  await db.db
    .transaction()
    .execute((trx) => recordRejections(trx, runId, 'payunity', WINDOW, ['v3/query'], rejected));
  const rows = await db.db
    .selectFrom('rejected_records')
    .select(['id', 'record_id'])
    .where('resolved_at', 'is', null)
    .execute();
  return holds.map(([, recordId]) => rows.find((r) => r.record_id === recordId)!.id);
}

type Rows = Record<string, string | null>[];
async function sheets(file: string): Promise<Record<string, Rows>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const out: Record<string, Rows> = {};
  for (const name of ['Discrepancies', 'Refund plan', 'Rejected lines']) {
    const ws = wb.getWorksheet(name)!;
    const headers = (ws.getRow(1).values as unknown[]).slice(1) as string[];
    out[name] = [];
    for (let r = 2; r <= ws.rowCount; r++)
      out[name].push(
        Object.fromEntries(headers.map((h, i) => [h, ws.getRow(r).getCell(i + 1).text || null])),
      );
  }
  return out;
}

describe('refund holds in the workbook', () => {
  it('marks held exactly what the plan holds, a planned refund held since, and a release', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-holds-report-'));
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    config.reports.dir = dir;
    const runId = await seedRun(db.db);
    const ctx = stageContext(db, config, runId);
    const dc = (transactionId: string, paymentId?: string) =>
      seedDiscrepancy(db.db, runId, {
        type: 'duplicate_charge',
        transactionId,
        paymentId,
        gatewayMinor: 1000,
        settledMinor: 1000,
      });

    // A: refunded against payment P; the rejected record names its transaction T, not P: the plan does not hold it.
    const [tA, pA] = [hex32(101), hex32(102)];
    await seedGatewayTx(db.db, { id: pA, amountMinor: 1000 });
    await seedGatewayTx(db.db, { id: tA, amountMinor: 1000, gatewayType: 'CP', rootPaymentId: pA });
    const a = await dc(tA, pA);
    await db.db
      .updateTable('gateway_transactions')
      .set({ root_payment_id: null })
      .where('transaction_id', '=', tA)
      .execute();
    // B: no payment id on the discrepancy; its capture's root R is what the plan refunds, and the record names R.
    const [tB, rB] = [hex32(103), hex32(104)];
    await seedGatewayTx(db.db, { id: tB, amountMinor: 1000, gatewayType: 'CP', rootPaymentId: rB });
    const b = await dc(tB);
    await db.db.updateTable('discrepancies').set({ payment_id: null }).where('id', '=', b).execute();
    // C: planned first, then a record of its payment rejected.
    const c = await dc(hex32(105));
    await seedGatewayTx(db.db, { id: hex32(105), amountMinor: 1000 });
    const first = await planRefunds(ctx, runId);
    expect(first.created.map((x) => x.discrepancyId).sort()).toEqual([a, b, c].sort());
    await db.db.deleteFrom('refund_actions').where('discrepancy_id', 'in', [a, b]).execute();

    const [, , onC = 0] = await reject(runId, [
      [tA, 'rf-a'],
      [rB, 'rf-b'],
      [hex32(105), 'rf-c'],
    ]);
    const plan = await planRefunds(ctx, runId);
    expect(plan.held.map((h) => h.discrepancyId)).toEqual([b]);
    expect(plan.created.map((x) => x.discrepancyId)).toEqual([a]);
    expect(plan.actions.filter((x) => x.held !== null).map((x) => x.discrepancyId)).toEqual([c]);

    // A's refund cancelled (say its discrepancy changed and changed back): the plan would propose it again, unheld.
    await db.db
      .updateTable('refund_actions')
      .set({ state: 'cancelled' })
      .where('discrepancy_id', '=', a)
      .execute();

    let wb = await sheets(await writeReport(ctx, runId));
    const detail = (id: string) =>
      String(wb.Discrepancies!.find((r) => r['Discrepancy ID'] === id)!['Detail']);
    const suggested = (id: string) =>
      wb.Discrepancies!.find((r) => r['Discrepancy ID'] === id)!['Suggested action'];
    expect(detail(a)).not.toContain('refund held');
    expect(detail(b)).toContain('refund held: payunity record rf-b (RF)');
    expect(suggested(b)).toBe('INVESTIGATE');
    expect(detail(c)).toContain('refund planned: 10.00 EUR; refund held: payunity record rf-c (RF)');
    expect(suggested(c)).toBe('INVESTIGATE');
    const hold = (id: string) =>
      wb['Refund plan']!.find((r) => r['Discrepancy ID'] === id && r['State'] === 'planned')!['Hold'];
    expect(String(hold(c))).toMatch(/^refund held: payunity record rf-c/);
    // And the plan agrees: A is proposed again, B still held.
    const again = await planRefunds(ctx, runId);
    expect(again.created.map((x) => x.discrepancyId)).toEqual([a]);
    expect(again.held.map((x) => x.discrepancyId)).toEqual([b]);

    await releaseHold(db.db, onC, {
      by: 'Jane Roe',
      reason: 'a test record',
      at: new Date('2026-11-23T10:00:00Z'),
    });
    wb = await sheets(await writeReport(ctx, runId));
    expect(detail(c)).not.toContain('refund held:');
    expect(detail(c)).toContain(
      'refund hold released: payunity record rf-c (RF) from v3/query of 2026-11-18 (rejection',
    );
    expect(detail(c)).toContain('released by Jane Roe on 2026-11-23 10:00 UTC: a test record');
    expect(suggested(c)).toBe('REFUND');
    expect(String(hold(c))).toMatch(/^refund hold released: .*Jane Roe/);
    expect(hold(a)).toBeNull();
    const rejected = (id: string) =>
      wb['Rejected lines']!.find((r) => r['Record ID'] === id)!['Holds refunds of'];
    expect(rejected('rf-c')).toBe(
      `nothing: released by Jane Roe on 2026-11-23 10:00 UTC (a test record); it held payment ${hex32(105)}`,
    );
    expect(rejected('rf-b')).toBe(`payment ${rB}`);
  });
});
