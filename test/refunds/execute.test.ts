// The executor against a real database and a PayUnity endpoint over real HTTP, through the real PayunityClient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { executeRefunds, planRefunds } from '../../src/refunds/index.js';
import { UsageError } from '../../src/shared/errors.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakePayunity, type FakePayunity } from './fake-payunity.js';
import { hex32, realClients, seedDiscrepancy, seedGatewayTx, seedRun, stageContext, testConfig } from './fixtures.js';

let db: TestDb;
let gw: FakePayunity;
let config: Config;
let n = 1000;

beforeAll(async () => {
  db = await createTestDb();
  gw = await startFakePayunity();
  config = testConfig({ payunity: gw }, db.url, { perRefund: { EUR: '150.00' }, perExecution: { EUR: '250.00' } });
});
afterAll(async () => {
  await gw.close();
  await db.drop();
});

/** A run with one planned status_mismatch refund per amount (EUR minor units); returns the run and discrepancy ids. */
async function planned(amounts: number[]): Promise<{ runId: number; ids: string[]; payments: string[] }> {
  const runId = await seedRun(db.db);
  const ids: string[] = [];
  const payments: string[] = [];
  for (const amount of amounts) {
    const id = hex32(n++);
    gw.payments.set(id, { amount: (amount / 100).toFixed(2), currency: 'EUR' });
    await seedGatewayTx(db.db, { id, amountMinor: amount, status: 'failed' });
    ids.push(await seedDiscrepancy(db.db, runId, { type: 'status_mismatch', transactionId: id, gatewayMinor: amount, settledMinor: amount }));
    payments.push(id);
  }
  await planRefunds(stageContext(db, config, runId), runId);
  return { runId, ids, payments };
}

const exec = (runId: number, approval: Parameters<typeof executeRefunds>[2], signal?: AbortSignal) =>
  executeRefunds(stageContext(db, config, runId, signal), runId, approval, realClients(config));

/** The action states, in the order of `ids`. */
async function states(ids: string[]): Promise<string[]> {
  const rows = await db.db.selectFrom('refund_actions').select(['discrepancy_id', 'state']).where('discrepancy_id', 'in', ids).execute();
  return ids.map((id) => rows.find((r) => r.discrepancy_id === id)?.state ?? 'none');
}

describe('executeRefunds', () => {
  it('sends nothing without an explicit, known approval', async () => {
    const { runId, ids } = await planned([1000]);
    const before = gw.posts;
    await expect(exec(runId, { ids: [] })).rejects.toThrow(/nothing approved/);
    await expect(exec(runId, { ids: [...ids, 'D0000000000000000'] })).rejects.toThrow(/D0000000000000000: unknown discrepancy id/);
    await expect(exec(runId, { ids: [...ids, 'D0000000000000000'] })).rejects.toBeInstanceOf(UsageError);
    expect(gw.posts).toBe(before);
    expect(await states(ids)).toEqual(['planned']);
  });

  it('sends each approved refund exactly once, audits it, and a second execution sends nothing', async () => {
    const { runId, ids, payments } = await planned([2500, 4000, 1234]);
    const before = gw.posts;
    const approved = [ids[0]!, ids[1]!];
    const first = await exec(runId, { ids: approved });
    expect(gw.posts - before).toBe(2);
    expect(first.counts).toMatchObject({ sent: 2, succeeded: 2, failed: 0, unknown: 0 });
    expect(first.sentMinor).toEqual({ EUR: 6500 });
    const atGateway = gw.refunds.filter((r) => payments.includes(r.referencedId));
    expect(atGateway.map((r) => [r.referencedId, r.amount, r.currency]).sort()).toEqual(
      [[payments[0], '25.00', 'EUR'], [payments[1], '40.00', 'EUR']].sort(),
    );
    for (const a of first.actions) expect(atGateway.find((r) => r.merchantTransactionId === a.idempotencyKey)?.id).toBe(a.gatewayRefundId);
    // the third was not approved and stays planned
    expect(await states(ids)).toEqual(['succeeded', 'succeeded', 'planned']);
    const attempts = await db.db
      .selectFrom('refund_attempts')
      .innerJoin('refund_actions', 'refund_actions.id', 'refund_attempts.refund_action_id')
      .select(['refund_attempts.action', 'refund_attempts.outcome', 'refund_attempts.request', 'refund_attempts.response'])
      .where('refund_actions.discrepancy_id', 'in', approved)
      .execute();
    expect(attempts).toHaveLength(2);
    for (const at of attempts) {
      expect(at).toMatchObject({ action: 'create', outcome: 'succeeded', request: { currency: 'EUR' }, response: { paymentType: 'RF' } });
    }

    const second = await exec(runId, { ids: approved });
    expect(gw.posts - before).toBe(2);
    expect(second.counts.sent).toBe(0);
    expect(second.actions.map((a) => a.how)).toEqual(['already_succeeded', 'already_succeeded']);
  });

  it('after a timeout once the gateway applied the refund, the next execution finds it and sends nothing new', async () => {
    const { runId, ids, payments } = await planned([3000]);
    const before = gw.posts;
    gw.nextFault = { kind: 'apply_then_hang' };
    const first = await exec(runId, { ids });
    expect(first.actions[0]).toMatchObject({ state: 'unknown', how: 'sent' });
    expect(first.actions[0]?.lastError).toMatch(/RefundUnknownError/);
    expect(gw.refunds.filter((r) => r.referencedId === payments[0])).toHaveLength(1);

    const second = await exec(runId, { ids });
    expect(gw.posts - before).toBe(1);
    expect(second.actions[0]).toMatchObject({ state: 'succeeded', how: 'found_at_gateway' });
    const atGateway = gw.refunds.filter((r) => r.referencedId === payments[0]);
    expect(atGateway).toHaveLength(1);
    expect(second.actions[0]?.gatewayRefundId).toBe(atGateway[0]?.id);
  });

  it('after a request that never reached the gateway, the next execution looks it up, then sends it once', async () => {
    const { runId, ids, payments } = await planned([3100]);
    const before = gw.posts;
    gw.nextFault = { kind: 'hang_then_drop' };
    const first = await exec(runId, { ids });
    expect(first.actions[0]?.state).toBe('unknown');
    expect(gw.refunds.filter((r) => r.referencedId === payments[0])).toHaveLength(0);
    const second = await exec(runId, { ids });
    expect(second.actions[0]).toMatchObject({ state: 'succeeded', how: 'sent' });
    expect(gw.posts - before).toBe(2);
    expect(gw.refunds.filter((r) => r.referencedId === payments[0])).toHaveLength(1);
    const outcomes = await db.db
      .selectFrom('refund_attempts')
      .innerJoin('refund_actions', 'refund_actions.id', 'refund_attempts.refund_action_id')
      .select(['refund_attempts.action', 'refund_attempts.outcome'])
      .where('refund_actions.discrepancy_id', '=', ids[0]!)
      .orderBy('refund_attempts.id')
      .execute();
    expect(outcomes).toEqual([
      { action: 'create', outcome: 'unknown' },
      { action: 'find', outcome: 'not_found' },
      { action: 'create', outcome: 'succeeded' },
    ]);
  });

  it('records a declined refund as failed', async () => {
    const { runId, ids } = await planned([1500]);
    gw.nextFault = { kind: 'decline' };
    const r = await exec(runId, { ids });
    expect(r.actions[0]).toMatchObject({ state: 'failed', how: 'sent' });
    expect(r.actions[0]?.lastError).toMatch(/^700\.400\.200/);
  });

  it('stops at the caps before anything is sent', async () => {
    const perRefund = await planned([15001]);
    const perExecution = await planned([10000, 10000, 6000]);
    const before = gw.posts;
    await expect(exec(perRefund.runId, { ids: perRefund.ids })).rejects.toThrow(/150\.01 EUR exceeds refunds\.maxPerRefund\.EUR \(150\.00\)/);
    await expect(exec(perExecution.runId, { ids: perExecution.ids })).rejects.toThrow(/total 260\.00 EUR exceeds refunds\.maxPerExecution\.EUR \(250\.00\)/);
    expect(gw.posts).toBe(before);
    expect(await states([...perRefund.ids, ...perExecution.ids])).toEqual(['planned', 'planned', 'planned', 'planned']);
    // a currency without configured caps is refused too, never treated as unlimited
    const noCaps = { ...config, refunds: { maxPerRefund: {}, maxPerExecution: {} } };
    await expect(
      executeRefunds(stageContext(db, noCaps, perRefund.runId), perRefund.runId, { ids: perRefund.ids }, realClients(noCaps)),
    ).rejects.toThrow(/no refunds\.maxPerRefund\.EUR is configured/);
    expect(gw.posts).toBe(before);
  });

  it('refuses a plan that no longer fits the payment (refunded at the gateway since)', async () => {
    const { runId, ids, payments } = await planned([5000]);
    await seedGatewayTx(db.db, { id: hex32(n++), amountMinor: -1000, kind: 'refund', gatewayType: 'RF', rootPaymentId: payments[0] });
    const before = gw.posts;
    await expect(exec(runId, { ids })).rejects.toThrow(/more than is still refundable .* \(40\.00\)/);
    expect(gw.posts).toBe(before);
  });

  it('stops between refunds when asked to, leaving the rest planned', async () => {
    const { runId, ids } = await planned([100, 200]);
    const ctl = new AbortController();
    ctl.abort();
    const before = gw.posts;
    const r = await exec(runId, { ids }, ctl.signal);
    expect(r.interrupted).toBe(true);
    expect(gw.posts).toBe(before);
    expect(await states(ids)).toEqual(['planned', 'planned']);
  });
});
