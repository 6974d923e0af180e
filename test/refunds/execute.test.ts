// The executor against a real database and the project's gateway simulators over real HTTP, through the real clients.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { executeRefunds, planRefunds } from '../../src/refunds/index.js';
import { acquireRefundLock } from '../../src/db/lock.js';
import { LockHeldError, UsageError } from '../../src/shared/errors.js';
import { testDbPerSuite } from '../helpers/db.js';
import { hex32, realClients, seedDiscrepancy, seedGatewayTx, stageContext } from './fixtures.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});

async function world(
  ...args: Parameters<typeof startWorld> extends [unknown, ...infer R] ? R : never
): Promise<World> {
  const w = await startWorld(db, ...args);
  worlds.push(w);
  return w;
}

const CAPS = {
  perRefund: { EUR: '150.00', USD: '150.00', JPY: '20000' },
  perExecution: { EUR: '250.00', USD: '250.00', JPY: '50000' },
};

const exec = (
  w: World,
  approval: Parameters<typeof executeRefunds>[2],
  opts: { config?: World['config']; signal?: AbortSignal } = {},
) => {
  const config = opts.config ?? w.config;
  return executeRefunds(
    stageContext(db, config, w.runId, opts.signal),
    w.runId,
    approval,
    realClients(config),
  );
};

/** The action states, in the order of `ids`. */
async function states(ids: string[]): Promise<string[]> {
  const rows = await db.db
    .selectFrom('refund_actions')
    .select(['discrepancy_id', 'state'])
    .where('discrepancy_id', 'in', ids)
    .execute();
  return ids.map((id) => rows.find((r) => r.discrepancy_id === id)?.state ?? 'none');
}

async function attempts(id: string): Promise<{ action: string; outcome: string }[]> {
  return db.db
    .selectFrom('refund_attempts')
    .innerJoin('refund_actions', 'refund_actions.id', 'refund_attempts.refund_action_id')
    .select(['refund_attempts.action', 'refund_attempts.outcome'])
    .where('refund_actions.discrepancy_id', '=', id)
    .orderBy('refund_attempts.id')
    .execute();
}

describe('executeRefunds', () => {
  it('sends nothing without an explicit, known approval', async () => {
    const w = await world([{ amountMinor: 1000 }], { caps: CAPS });
    await expect(exec(w, { ids: [] })).rejects.toThrow(/nothing approved/);
    const unknown = exec(w, { ids: [...w.ids, 'D0000000000000000'] });
    await expect(unknown).rejects.toBeInstanceOf(UsageError);
    await expect(unknown).rejects.toThrow(/D0000000000000000: unknown discrepancy id/);
    // A type that is never refunded is named as such, not sent to plan refunds that will never come.
    const currency = await seedDiscrepancy(db.db, w.runId, {
      type: 'currency_mismatch',
      transactionId: hex32(990),
      gatewayMinor: 1000,
      settledMinor: null,
    });
    await expect(exec(w, { ids: [...w.ids, currency] })).rejects.toThrow(
      `${currency}: a currency_mismatch is never refunded (refund candidates: status_mismatch, duplicate_charge, amount_mismatch)`,
    );
    expect(w.refundsAtGateway()).toEqual([]);
    expect(await states(w.ids)).toEqual(['planned']);
    expect(await attempts(w.ids[0]!)).toEqual([]);
  });

  it('sends each approved refund exactly once, audits it, and a second execution sends nothing', async () => {
    const w = await world(
      [
        { amountMinor: 2500 },
        { amountMinor: 4000, provider: 'useepay', currency: 'USD' },
        { amountMinor: 1234 },
      ],
      { caps: CAPS },
    );
    const approved = [w.ids[0]!, w.ids[1]!];
    const first = await exec(w, { ids: approved });
    expect(first.counts).toMatchObject({ sent: 2, succeeded: 2, failed: 0, unknown: 0 });
    expect(first.sentMinor).toEqual({ EUR: 2500, USD: 4000 });
    const key = (id: string) => first.actions.find((a) => a.discrepancyId === id)?.idempotencyKey;
    expect(w.refundsAtGateway().sort()).toEqual(
      [
        [w.paymentIds[0], '25.00', 'EUR', key(w.ids[0]!)],
        [w.paymentIds[1], '40', 'USD', key(w.ids[1]!)],
      ].sort(),
    );
    // the third was not approved and stays planned
    expect(await states(w.ids)).toEqual(['succeeded', 'succeeded', 'planned']);
    for (const id of approved)
      expect(await attempts(id)).toEqual([{ action: 'create', outcome: 'succeeded' }]);
    const audit = await db.db
      .selectFrom('refund_attempts')
      .select(['request', 'response', 'at'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(audit.request).toMatchObject({
      paymentId: expect.any(String),
      amountMinor: expect.any(Number),
      idempotencyKey: expect.stringMatching(/^prc-D[0-9a-f]{16}-1$/),
    });
    expect(audit.response).toBeTruthy();

    const second = await exec(w, { ids: approved });
    expect(second.counts.sent).toBe(0);
    expect(second.actions.map((a) => a.how)).toEqual(['already_succeeded', 'already_succeeded']);
    expect(w.refundsAtGateway()).toHaveLength(2);
  });

  it("refuses a refund that finance's recorded decision is to IGNORE, until a newer decision says REFUND", async () => {
    const w = await world([{ amountMinor: 1800 }, { amountMinor: 2200 }], { caps: CAPS });
    const [ignored, other] = w.ids as [string, string];
    const decide = (action: 'IGNORE' | 'REFUND', file: string) =>
      db.db
        .insertInto('discrepancy_decisions')
        .values({
          discrepancy_id: ignored,
          action,
          source_file: file,
          source_sha256: 'a'.repeat(64),
          sheet: 'Discrepancies',
          row_no: 2,
        })
        .execute();
    await decide('IGNORE', 'finance.xlsx');
    const refused = exec(w, { ids: [other, ignored] });
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(
      `approval refused, nothing was sent: ${ignored}: finance decided IGNORE (recorded from finance.xlsx); import a workbook that decides REFUND with \`payrecon decisions import\` first`,
    );
    expect(w.refundsAtGateway()).toEqual([]);
    expect(await states(w.ids)).toEqual(['planned', 'planned']);

    await decide('REFUND', 'finance-2.xlsx');
    const sent = await exec(w, { ids: [other, ignored] });
    expect(sent.counts).toMatchObject({ sent: 2, succeeded: 2 });
  });

  for (const provider of ['payunity', 'useepay'] as const) {
    it(`${provider}: after a timeout once the gateway applied the refund, the next execution finds it and sends nothing new`, async () => {
      const w = await world([{ amountMinor: 3000, provider }], {
        caps: CAPS,
        faults: { refundTimeoutAfterApply: 1 },
      });
      const first = await exec(w, { ids: w.ids });
      expect(first.actions[0]).toMatchObject({ state: 'unknown', how: 'sent' });
      expect(first.actions[0]?.lastError).toMatch(/RefundUnknownError/);
      expect(w.refundsAtGateway()).toHaveLength(1);

      const second = await exec(w, { ids: w.ids });
      expect(second.actions[0]).toMatchObject({ state: 'succeeded', how: 'found_at_gateway' });
      expect(second.counts.sent).toBe(0);
      expect(w.refundsAtGateway()).toHaveLength(1);
      expect(await attempts(w.ids[0]!)).toEqual([
        { action: 'create', outcome: 'unknown' },
        { action: 'find', outcome: 'found_succeeded' },
      ]);
    });
  }

  it('after a request that never reached the gateway, the next execution looks it up, then sends it once', async () => {
    const w = await world([{ amountMinor: 3100 }], { caps: CAPS });
    // nothing listens on port 9: the first execution cannot reach the gateway
    const unreachable = parseConfig(
      { ...w.raw, providers: { payunity: { ...w.raw.providers.payunity, baseUrl: 'http://127.0.0.1:9' } } },
      {},
    ).config;
    const first = await exec(w, { ids: w.ids }, { config: unreachable });
    expect(first.actions[0]?.state).toBe('unknown');
    expect(w.refundsAtGateway()).toHaveLength(0);
    const approval = () =>
      db.db
        .selectFrom('refund_actions')
        .select(['approved_by', 'approved_at'])
        .where('discrepancy_id', '=', w.ids[0]!)
        .executeTakeFirstOrThrow();
    const approvedFirst = await approval();
    expect(approvedFirst.approved_by).not.toBeNull();
    const second = await executeRefunds(
      stageContext(db, w.config, w.runId),
      w.runId,
      { ids: w.ids },
      {
        ...realClients(w.config),
        approvedBy: 'a later execution',
      },
    );
    expect(second.actions[0]).toMatchObject({ state: 'succeeded', how: 'sent' });
    expect(w.refundsAtGateway()).toHaveLength(1);
    // The approval that authorised the first send stays on record.
    expect(await approval()).toEqual(approvedFirst);
    expect(await attempts(w.ids[0]!)).toEqual([
      { action: 'create', outcome: 'unknown' },
      { action: 'find', outcome: 'not_found' },
      { action: 'create', outcome: 'succeeded' },
    ]);
  });

  it('records a refund the gateway declines as failed', async () => {
    const w = await world([{ amountMinor: 1500, declinedAtGateway: true }], { caps: CAPS });
    const r = await exec(w, { ids: w.ids });
    expect(r.actions[0]).toMatchObject({ state: 'failed', how: 'sent' });
    expect(r.actions[0]?.lastError).toMatch(/^700\.400\.200/);
    expect(w.refundsAtGateway()).toEqual([]);
    // approving it again sends nothing: a failed refund needs a new plan, with a new key
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(/its last refund failed \(700\.400\.200/);
    const replanned = await planRefunds(stageContext(db, w.config, w.runId), w.runId);
    expect(replanned.created.map((a) => a.idempotencyKey)).toEqual([`prc-${w.ids[0]}-2`]);
  });

  it('says a refund cancelled before sending was cancelled, not that it failed at the gateway', async () => {
    const w = await world([{ amountMinor: 1200 }], { caps: CAPS });
    await db.db
      .updateTable('refund_actions')
      .set({ state: 'cancelled', last_error: 'cancelled before sending: finance decided IGNORE' })
      .where('discrepancy_id', '=', w.ids[0]!)
      .execute();
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(
      /its planned refund was cancelled before sending \(cancelled before sending: finance decided IGNORE\); `payrecon refunds plan --run \d+` proposes a new one if it is still owed/,
    );
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses a planned refund that a gateway record rejected since may concern, until the rejection is resolved', async () => {
    const w = await world([{ amountMinor: 1300 }], { caps: CAPS });
    const planned = await db.db
      .selectFrom('refund_actions')
      .select(['provider', 'payment_id'])
      .where('discrepancy_id', '=', w.ids[0]!)
      .executeTakeFirstOrThrow();
    // The next pull met a refund of that payment it could not read.
    const { id: rejection } = await db.db
      .insertInto('rejected_records')
      .values({
        provider: planned.provider,
        endpoint: 'v3/query',
        window_from: '2026-11-20T00:00:00Z',
        window_to: '2026-11-21T00:00:00Z',
        record_id: 'rf-unreadable',
        gateway_type: 'RF',
        referenced_id: planned.payment_id,
        hold_id: planned.payment_id,
        reason: 'amount "10.1234" has more decimals than EUR allows',
        raw: '{}',
        raw_hash: 'h',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(
      new RegExp(`${w.ids[0]}: refund held: ${planned.provider} record rf-unreadable \\(RF\\) from v3/query`),
    );
    expect(w.refundsAtGateway()).toEqual([]);
    // Resolved (a later pull stored it fine): the refund goes.
    await db.db
      .updateTable('rejected_records')
      .set({ resolved_at: new Date() })
      .where('id', '=', rejection)
      .execute();
    expect((await exec(w, { ids: w.ids })).counts).toMatchObject({ sent: 1 });
  });

  it('stops at the caps before anything is sent', async () => {
    const perRefund = await world([{ amountMinor: 1000 }, { amountMinor: 15001 }], { caps: CAPS });
    await expect(exec(perRefund, { ids: perRefund.ids })).rejects.toThrow(
      /150\.01 EUR exceeds refunds\.maxPerRefund\.EUR \(150\.00\)/,
    );
    const perExecution = await world(
      [{ amountMinor: 10000 }, { amountMinor: 10000 }, { amountMinor: 6000 }],
      { caps: CAPS },
    );
    await expect(exec(perExecution, { ids: perExecution.ids })).rejects.toThrow(
      /total 260\.00 EUR exceeds refunds\.maxPerExecution\.EUR \(250\.00\)/,
    );
    // a currency without configured caps is refused too, never treated as unlimited
    const noCaps = await world([{ amountMinor: 100 }], { caps: { perRefund: {}, perExecution: {} } });
    await expect(exec(noCaps, { ids: noCaps.ids })).rejects.toThrow(
      /refunds\.maxPerRefund\.EUR and refunds\.maxPerExecution\.EUR are not configured: a currency without caps is never refunded/,
    );
    for (const w of [perRefund, perExecution, noCaps]) {
      expect(w.refundsAtGateway()).toEqual([]);
      expect(new Set(await states(w.ids))).toEqual(new Set(['planned']));
    }
  });

  it('refuses a plan that no longer fits the payment (refunded at the gateway since)', async () => {
    const w = await world([{ amountMinor: 5000 }], { caps: CAPS });
    await seedGatewayTx(db.db, {
      id: hex32(987654),
      amountMinor: -1000,
      kind: 'refund',
      gatewayType: 'RF',
      rootPaymentId: w.paymentIds[0],
    });
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(/more than is still refundable .* \(40\.00\)/);
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses a planned refund larger than its discrepancy now calls for (it changed since the plan)', async () => {
    const w = await world([{ amountMinor: 1000 }], { caps: CAPS });
    // A corrected file: only 6.00 of the duplicate was settled after all.
    await db.db
      .updateTable('discrepancies')
      .set({ settled_amount_minor: 600 })
      .where('id', '=', w.ids[0]!)
      .execute();
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(
      /the planned refund of 10\.00 EUR is more than the discrepancy now calls for \(6\.00\)/,
    );
    expect(w.refundsAtGateway()).toEqual([]);
    // A new plan proposes what is owed now, and that is what is sent.
    await planRefunds(stageContext(db, w.config, w.runId), w.runId);
    const r = await exec(w, { ids: w.ids });
    expect(r.actions[0]).toMatchObject({ state: 'succeeded', how: 'sent', amountMinor: 600 });
    expect(w.refundsAtGateway().map((x) => x[1])).toEqual(['6.00']);
  });

  it('before sending again what the gateway never got, checks what is still refundable', async () => {
    const w = await world([{ amountMinor: 3000 }], { caps: CAPS });
    const unreachable = parseConfig(
      { ...w.raw, providers: { payunity: { ...w.raw.providers.payunity, baseUrl: 'http://127.0.0.1:9' } } },
      {},
    ).config;
    expect((await exec(w, { ids: w.ids }, { config: unreachable })).actions[0]?.state).toBe('unknown');
    // Meanwhile the shopper charged the whole payment back.
    await seedGatewayTx(db.db, {
      id: hex32(987655),
      amountMinor: -3000,
      kind: 'chargeback',
      gatewayType: 'CB',
      status: 'chargeback',
      rootPaymentId: w.paymentIds[0],
    });
    await expect(exec(w, { ids: w.ids })).rejects.toThrow(/more than is still refundable .* \(0\.00\)/);
    expect(w.refundsAtGateway()).toEqual([]);
    // It was looked up (not found), never sent again.
    expect(await attempts(w.ids[0]!)).toEqual([
      { action: 'create', outcome: 'unknown' },
      { action: 'find', outcome: 'not_found' },
    ]);
  });

  it('stops between refunds when asked to, leaving the rest planned', async () => {
    const w = await world([{ amountMinor: 100 }, { amountMinor: 200 }], { caps: CAPS });
    const ctl = new AbortController();
    ctl.abort();
    const r = await exec(w, { ids: w.ids }, { signal: ctl.signal });
    expect(r.interrupted).toBe(true);
    expect(w.refundsAtGateway()).toEqual([]);
    expect(await states(w.ids)).toEqual(['planned', 'planned']);
  });

  it('refuses to run beside another refund execution (lock held): nothing sent', async () => {
    const w = await world([{ amountMinor: 100 }], { caps: CAPS });
    const held = await acquireRefundLock(db.pool, 'test');
    try {
      await expect(exec(w, { ids: w.ids })).rejects.toBeInstanceOf(LockHeldError);
    } finally {
      await held.release();
    }
    expect(w.refundsAtGateway()).toEqual([]);
    expect((await exec(w, { ids: w.ids })).counts.sent).toBe(1);
  });

  it('sends zero-decimal amounts exactly (JPY) to both gateways', async () => {
    const w = await world(
      [
        { amountMinor: 5600, currency: 'JPY' },
        { amountMinor: 12345, currency: 'JPY', provider: 'useepay' },
      ],
      { caps: CAPS },
    );
    const r = await exec(w, { ids: w.ids });
    expect(r.sentMinor).toEqual({ JPY: 17945 });
    expect(
      w
        .refundsAtGateway()
        .map(([p, amount, cur]) => [p, amount, cur])
        .sort(),
    ).toEqual(
      [
        [w.paymentIds[0], '5600.00', 'JPY'],
        [w.paymentIds[1], '12345', 'JPY'],
      ].sort(),
    );
  });
});
