// The planner against a real database: candidates, amounts capped by what is left on the payment, idempotent reruns.
import { describe, expect, it } from 'vitest';
import { formatPlan, planRefunds } from '../../src/refunds/index.js';
import { testStageContext } from '../helpers/context.js';
import { testDbPerSuite } from '../helpers/db.js';
import { hex32, seedDiscrepancy, seedGatewayTx, seedRun, stageContext, testConfig } from './fixtures.js';

const db = testDbPerSuite();

describe('planRefunds', () => {
  it('plans each candidate type with its rule amount, capped by what is still refundable, and only once', async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
      {
        perRefund: { EUR: '50.00' },
        perExecution: { EUR: '150.00' },
      },
    );
    const runId = await seedRun(db.db);
    const otherRun = await seedRun(db.db);
    const ctx = stageContext(db, config, runId);

    // status_mismatch: the gateway says failed, 100.00 was settled -> 100.00
    await seedGatewayTx(db.db, { id: hex32(1), amountMinor: 10000, status: 'failed' });
    const sm = await seedDiscrepancy(db.db, runId, {
      type: 'status_mismatch',
      transactionId: hex32(1),
      gatewayMinor: 10000,
      settledMinor: 10000,
    });
    // duplicate_charge of 50.00 with 20.00 already refunded at the gateway -> 30.00
    await seedGatewayTx(db.db, { id: hex32(2), amountMinor: 5000 });
    await seedGatewayTx(db.db, {
      id: hex32(102),
      amountMinor: -2000,
      kind: 'refund',
      gatewayType: 'RF',
      rootPaymentId: hex32(2),
    });
    const dc = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: hex32(2),
      gatewayMinor: 5000,
      settledMinor: 5000,
    });
    // overcharging amount_mismatch: 105.00 settled for 100.00 -> 5.00
    await seedGatewayTx(db.db, { id: hex32(3), amountMinor: 10000 });
    const am = await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: hex32(3),
      gatewayMinor: 10000,
      settledMinor: 10500,
    });
    // undercharging amount_mismatch, nothing settled, a closed one, a non-candidate type, another run's: none
    await seedGatewayTx(db.db, { id: hex32(4), amountMinor: 10000 });
    await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: hex32(4),
      gatewayMinor: 10000,
      settledMinor: 9500,
    });
    await seedGatewayTx(db.db, { id: hex32(5), amountMinor: 10000, status: 'failed' });
    await seedDiscrepancy(db.db, runId, {
      type: 'status_mismatch',
      transactionId: hex32(5),
      gatewayMinor: 10000,
      settledMinor: 10000,
      status: 'closed',
    });
    await seedDiscrepancy(db.db, runId, {
      type: 'missing_in_settlement',
      transactionId: hex32(4),
      gatewayMinor: 10000,
      settledMinor: null,
    });
    await seedGatewayTx(db.db, { id: hex32(8), amountMinor: 10000, status: 'failed' });
    await seedDiscrepancy(db.db, runId, {
      type: 'status_mismatch',
      transactionId: hex32(8),
      gatewayMinor: 10000,
      settledMinor: null,
    });
    await seedGatewayTx(db.db, { id: hex32(6), amountMinor: 10000, status: 'failed' });
    await seedDiscrepancy(db.db, otherRun, {
      type: 'status_mismatch',
      transactionId: hex32(6),
      gatewayMinor: 10000,
      settledMinor: 10000,
    });
    // two captures of one authorization, each settled 30.00 too high, 40.00 captured in all: 30.00 then 10.00
    const pa = hex32(7);
    await seedGatewayTx(db.db, { id: pa, amountMinor: 0, kind: 'authorization', gatewayType: 'PA' });
    await seedGatewayTx(db.db, { id: hex32(71), amountMinor: 2000, gatewayType: 'CP', rootPaymentId: pa });
    await seedGatewayTx(db.db, { id: hex32(72), amountMinor: 2000, gatewayType: 'CP', rootPaymentId: pa });
    const cp1 = await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: hex32(71),
      paymentId: pa,
      gatewayMinor: 2000,
      settledMinor: 5000,
    });
    const cp2 = await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: hex32(72),
      paymentId: pa,
      gatewayMinor: 2000,
      settledMinor: 5000,
    });

    const plan = await planRefunds(ctx, runId);
    const byId = new Map(plan.created.map((a) => [a.discrepancyId, a]));
    expect(new Set(byId.keys())).toEqual(new Set([sm, dc, am, cp1, cp2]));
    expect(plan.skipped).toEqual([]); // nothing settled is no candidate at all, not one with nothing left
    expect(byId.get(sm)).toMatchObject({
      amountMinor: 10000,
      currency: 'EUR',
      state: 'planned',
      paymentId: hex32(1),
      provider: 'payunity',
    });
    expect(byId.get(dc)?.amountMinor).toBe(3000);
    expect(byId.get(am)?.amountMinor).toBe(500);
    const [first, second] = [cp1, cp2].sort();
    expect(byId.get(first!)?.amountMinor).toBe(3000);
    expect(byId.get(second!)?.amountMinor).toBe(1000);
    for (const a of plan.created) {
      expect(a.idempotencyKey).toBe(`prc-${a.discrepancyId}-1`);
      expect(a.idempotencyKey.length).toBeLessThanOrEqual(40);
    }
    // caps are shown: 100.00 is over the 50.00 per-refund cap; the total 175.00 is over 150.00
    expect(plan.caps).toEqual([
      {
        currency: 'EUR',
        maxPerRefundMinor: 5000,
        maxPerExecutionMinor: 15000,
        pendingMinor: 17500,
        heldMinor: 0,
        overPerRefund: [sm],
        overPerExecution: true,
      },
    ]);

    const text = formatPlan(plan);
    expect(text).toContain(`Refund plan for run ${runId}: 5 new, 5 in total`);
    expect(text).toContain(
      `new ${sm}  payunity  payment ${hex32(1)}  100.00 EUR  planned  (status_mismatch, key prc-${sm}-1)`,
    );
    expect(text).toContain(
      `EUR: pending 175.00 EUR; caps per refund 50.00 EUR, per execution 150.00 EUR (over the per-refund cap: ${sm}; the total is over the per-execution cap)`,
    );
    expect(text).toContain('Nothing was sent.');

    // rerunning creates nothing and changes nothing
    const again = await planRefunds(ctx, runId);
    expect(again.created).toEqual([]);
    expect(again.actions.map((a) => [a.id, a.amountMinor])).toEqual(
      plan.actions.map((a) => [a.id, a.amountMinor]),
    );
    const count = await db.db
      .selectFrom('refund_actions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(5);
  });

  it('leaves room for refunds payrecon already planned or sent on the same payment', async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    const runId = await seedRun(db.db);
    const p = hex32(20);
    await seedGatewayTx(db.db, { id: p, amountMinor: 6000 });
    const first = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: p,
      gatewayMinor: 6000,
      settledMinor: 6000,
    });
    await planRefunds(stageContext(db, config, runId), runId);
    // a later run finds another overcharge on the same payment: only what is left after the planned 60.00 (nothing)
    const later = await seedRun(db.db);
    const second = await seedDiscrepancy(db.db, later, {
      type: 'amount_mismatch',
      transactionId: p,
      gatewayMinor: 6000,
      settledMinor: 7000,
    });
    const plan = await planRefunds(stageContext(db, config, later), later);
    expect(plan.created).toEqual([]);
    expect(plan.skipped).toEqual([
      { discrepancyId: second, reason: expect.stringContaining('nothing left to refund') },
    ]);
    expect(first).not.toBe(second);
  });
  it('never plans more than the gateway captured, though more was settled (two candidates on one payment)', async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    const runId = await seedRun(db.db);
    const p = hex32(21);
    // The gateway took 30.07; the file settled 40.07: 10.00 over, and the payment is also a duplicate charge.
    await seedGatewayTx(db.db, { id: p, amountMinor: 3007 });
    await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: p,
      gatewayMinor: 3007,
      settledMinor: 4007,
    });
    await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: p,
      gatewayMinor: 3007,
      settledMinor: 4007,
    });
    const plan = await planRefunds(stageContext(db, config, runId), runId);
    // A refund at the gateway can never exceed what it captured: 30.07 in all, however the two share it.
    expect(plan.created.reduce((sum, a) => sum + a.amountMinor, 0)).toBe(3007);
  });

  it("records when a refund was planned by the command's clock, as every other time of a refund", async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    const runId = await seedRun(db.db);
    const p = hex32(26);
    await seedGatewayTx(db.db, { id: p, amountMinor: 1200 });
    const id = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: p,
      gatewayMinor: 1200,
      settledMinor: 1200,
    });
    // A past night reproduced with PAYRECON_NOW: its plan is dated that night, not today.
    const ctx = testStageContext(db, config, { runId, now: '2026-10-10T02:30:00Z' });
    await planRefunds(ctx, runId);
    const row = await db.db
      .selectFrom('refund_actions')
      .select('planned_at')
      .where('discrepancy_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.planned_at.toISOString()).toBe('2026-10-10T02:30:00.000Z');
  });

  it('cancels a planned refund whose discrepancy changed or closed, and plans what is owed now', async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    const runId = await seedRun(db.db);
    const [p, q] = [hex32(22), hex32(23)];
    await seedGatewayTx(db.db, { id: p, amountMinor: 4390 });
    await seedGatewayTx(db.db, { id: q, amountMinor: 2000 });
    const over = await seedDiscrepancy(db.db, runId, {
      type: 'amount_mismatch',
      transactionId: p,
      gatewayMinor: 4390,
      settledMinor: 5390,
    });
    const dup = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: q,
      gatewayMinor: 2000,
      settledMinor: 2000,
    });
    const first = await planRefunds(stageContext(db, config, runId), runId);
    const byId = (rows: [string, number][]) => rows.sort((a, b) => a[0].localeCompare(b[0]));
    expect(byId(first.created.map((a) => [a.discrepancyId, a.amountMinor]))).toEqual(
      byId([
        [over, 1000],
        [dup, 2000],
      ]),
    );
    // A corrected file: settled 4.00 over, not 10.00; the duplicate turned out to be no duplicate.
    await db.db
      .updateTable('discrepancies')
      .set({ settled_amount_minor: 4790 })
      .where('id', '=', over)
      .execute();
    await db.db.updateTable('discrepancies').set({ status: 'closed' }).where('id', '=', dup).execute();
    const again = await planRefunds(stageContext(db, config, runId), runId);
    expect(again.cancelled.map((c) => c.discrepancyId).sort()).toEqual([over, dup].sort());
    expect(again.created.map((a) => [a.discrepancyId, a.amountMinor, a.idempotencyKey])).toEqual([
      [over, 400, `prc-${over}-2`],
    ]);
    const states = await db.db
      .selectFrom('refund_actions')
      .select(['discrepancy_id', 'amount_minor', 'state', 'last_error'])
      .where('discrepancy_id', 'in', [over, dup])
      .orderBy('id')
      .execute();
    const line = (r: (typeof states)[number]) => `${r.discrepancy_id} ${Number(r.amount_minor)} ${r.state}`;
    expect(states.map(line).sort()).toEqual(
      [`${over} 1000 cancelled`, `${dup} 2000 cancelled`, `${over} 400 planned`].sort(),
    );
    expect(states.find((r) => r.discrepancy_id === dup)?.last_error).toBe(
      'cancelled before sending: the discrepancy closed',
    );
  });

  it('does not plan, and cancels a planned, refund that finance decided to IGNORE, until it decides REFUND', async () => {
    const config = testConfig(
      { payunity: { url: 'http://127.0.0.1:9', entityId: 'e', accessToken: 't' } },
      db.url,
    );
    const runId = await seedRun(db.db);
    const [p, q] = [hex32(24), hex32(25)];
    await seedGatewayTx(db.db, { id: p, amountMinor: 1500 });
    await seedGatewayTx(db.db, { id: q, amountMinor: 2500 });
    const planned = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: p,
      gatewayMinor: 1500,
      settledMinor: 1500,
    });
    const later = await seedDiscrepancy(db.db, runId, {
      type: 'duplicate_charge',
      transactionId: q,
      gatewayMinor: 2500,
      settledMinor: 2500,
    });
    const decide = (id: string, action: 'IGNORE' | 'REFUND') =>
      db.db
        .insertInto('discrepancy_decisions')
        .values({
          discrepancy_id: id,
          action,
          source_file: 'finance.xlsx',
          source_sha256: 'b'.repeat(64),
          sheet: 'Discrepancies',
          row_no: 2,
        })
        .execute();
    await decide(later, 'IGNORE');
    const first = await planRefunds(stageContext(db, config, runId), runId);
    expect(first.created.map((a) => a.discrepancyId)).toEqual([planned]);

    await decide(planned, 'IGNORE');
    const second = await planRefunds(stageContext(db, config, runId), runId);
    expect(second.created).toEqual([]);
    const cancelled = await db.db
      .selectFrom('refund_actions')
      .select(['state', 'last_error'])
      .where('discrepancy_id', '=', planned)
      .executeTakeFirstOrThrow();
    expect(cancelled).toEqual({
      state: 'cancelled',
      last_error: 'cancelled before sending: finance decided IGNORE',
    });
    // Said in the plan itself, not only in a log line: the refund finance may have approved is gone.
    expect(second.cancelled).toEqual([
      { discrepancyId: planned, reason: 'cancelled before sending: finance decided IGNORE' },
    ]);
    expect(formatPlan(second)).toContain(
      `  cancelled ${planned}: cancelled before sending: finance decided IGNORE`,
    );

    await decide(later, 'REFUND');
    const third = await planRefunds(stageContext(db, config, runId), runId);
    expect(third.created.map((a) => [a.discrepancyId, a.amountMinor])).toEqual([[later, 2500]]);
  });
});
