// Refund holds against a real database and the gateway simulators: an action planned before a rejection is listed
// as held, kept as planned and counted against no cap, refused by execute, and sent exactly once when the hold is
// released by hand; releases are recorded once, and a new rejection of the record holds again.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recordRejections } from '../../src/gateways/rejected-store.js';
import type { RejectedRecord } from '../../src/gateways/types.js';
import { listHolds, releaseHold } from '../../src/refunds/hold-releases.js';
import { formatHolds, formatRelease } from '../../src/refunds/hold-format.js';
import { executeRefunds, formatPlan, planRefunds } from '../../src/refunds/index.js';
import { UsageError } from '../../src/shared/errors.js';
import { testDbPerSuite } from '../helpers/db.js';
import { realClients, stageContext } from './fixtures.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});

const CAPS = { perRefund: { EUR: '150.00' }, perExecution: { EUR: '150.00' } };

async function world(...args: Parameters<typeof startWorld> extends [unknown, ...infer R] ? R : never) {
  const w = await startWorld(db, ...args);
  worlds.push(w);
  return w;
}

const WINDOW = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };

/** A pull of WINDOW met an unreadable refund of `paymentId`: recorded as a pull records it. */
async function rejectRefundOf(paymentId: string, text: string): Promise<number> {
  const r: RejectedRecord = {
    provider: 'payunity',
    endpoint: 'v3/query',
    window: WINDOW,
    recordId: `rf-of-${paymentId.slice(0, 8)}`,
    gatewayType: 'RF',
    referencedId: paymentId,
    holdId: paymentId,
    reason: `amount "${text}" has more decimals than EUR allows`,
    raw: `{"amount":"${text}"}`,
    rawHash: createHash('sha1').update(text).digest('hex'),
  };
  // In one transaction, as a pull records a window's rejections.
  await db.db
    .transaction()
    .execute((trx) => recordRejections(trx, null, 'payunity', WINDOW, ['v3/query'], [r]));
  const row = await db.db
    .selectFrom('rejected_records')
    .select('id')
    .where('raw_hash', '=', r.rawHash)
    .executeTakeFirstOrThrow();
  return row.id;
}

const exec = (w: World, ids: string[]) =>
  executeRefunds(
    stageContext(db, w.config, w.runId),
    w.runId,
    { ids },
    { ...realClients(w.config), approvedBy: 'Jane Roe' },
  );

describe('refund holds', () => {
  it('lists a refund planned before a rejection as held, out of the caps, kept planned, and refused by execute', async () => {
    const w = await world([{ amountMinor: 10000 }, { amountMinor: 10000 }], { caps: CAPS });
    const ctx = stageContext(db, w.config, w.runId);
    // Both planned: together over the 150.00 per-execution cap.
    const before = await planRefunds(ctx, w.runId);
    expect(before.caps[0]).toMatchObject({ pendingMinor: 20000, heldMinor: 0, overPerExecution: true });
    expect(before.actions.map((a) => a.held)).toEqual([null, null]);

    const rejection = await rejectRefundOf(w.paymentIds[0]!, '10.1234');
    const plan = await planRefunds(ctx, w.runId);
    const [held, free] = [w.ids[0]!, w.ids[1]!].map((id) =>
      plan.actions.find((a) => a.discrepancyId === id)!,
    );
    expect(held!.state).toBe('planned');
    expect(held!.held).toEqual({
      rejectionId: rejection,
      reason: expect.stringMatching(/^refund held: payunity record rf-of-/),
    });
    expect(free!.held).toBeNull();
    // Held, it counts against no cap: what is left to send fits.
    expect(plan.caps).toEqual([
      expect.objectContaining({
        currency: 'EUR',
        pendingMinor: 10000,
        heldMinor: 10000,
        overPerExecution: false,
        overPerRefund: [],
      }),
    ]);
    // The per-refund cap is about each refund alone: a held one over it is flagged already.
    const tight = { ...w.config, refunds: { ...w.config.refunds, maxPerRefund: { EUR: '50.00' } } };
    const underTight = await planRefunds(stageContext(db, tight, w.runId), w.runId);
    expect(underTight.caps[0]!.overPerRefund.sort()).toEqual([w.ids[0]!, w.ids[1]!].sort());
    const text = formatPlan(plan);
    expect(text).toContain(
      `held (planned, not sent until the hold lifts): refund held: payunity record rf-of-`,
    );
    expect(text).toContain(
      'EUR: pending 100.00 EUR; caps per refund 150.00 EUR, per execution 150.00 EUR (100.00 EUR more held, counted against no cap)',
    );
    expect(text).toContain(`payrecon refunds release-hold ${rejection} --reason`);
    // The JSON carries it as such.
    const json = JSON.parse(JSON.stringify(plan)) as {
      actions: { discrepancyId: string; state: string; held: { rejectionId: number } | null }[];
    };
    expect(json.actions.find((a) => a.discrepancyId === w.ids[0])).toMatchObject({
      state: 'planned',
      held: { rejectionId: rejection },
    });

    // Execute refuses it (nothing sent), sends the other alone within the caps, and keeps the held one planned.
    await expect(exec(w, w.ids)).rejects.toThrow(
      new RegExp(`${w.ids[0]}: refund held: payunity record rf-of-`),
    );
    expect(w.refundsAtGateway()).toEqual([]);
    expect((await exec(w, [w.ids[1]!])).counts).toMatchObject({ sent: 1, succeeded: 1 });
    const kept = await db.db
      .selectFrom('refund_actions')
      .select(['state', 'approved_at'])
      .where('discrepancy_id', '=', w.ids[0]!)
      .execute();
    expect(kept).toEqual([{ state: 'planned', approved_at: null }]);

    // Released by hand: it is sent as planned, exactly once.
    await releaseHold(db.db, rejection, {
      by: 'Jane Roe',
      reason: 'test record the gateway keeps sending',
      at: new Date('2026-11-23T10:00:00Z'),
    });
    const after = await planRefunds(ctx, w.runId);
    expect(after.created).toEqual([]);
    expect(after.actions.find((a) => a.discrepancyId === w.ids[0])!.held).toBeNull();
    expect(after.released).toEqual([
      {
        discrepancyId: w.ids[0],
        rejectionId: rejection,
        reason: expect.stringMatching(
          /^refund hold released: .* was released by Jane Roe on 2026-11-23 10:00 UTC: test record/,
        ),
      },
    ]);
    expect((await exec(w, [w.ids[0]!])).counts).toMatchObject({ sent: 1, succeeded: 1 });
    expect((await exec(w, [w.ids[0]!])).counts).toMatchObject({ sent: 0, succeeded: 1 });
    expect(
      w
        .refundsAtGateway()
        .map(([p]) => p)
        .sort(),
    ).toEqual([...w.paymentIds].sort());
  });

  it('holds a candidate until released; a release is recorded once; the same text stays released, a new one holds again', async () => {
    const w = await world([{ amountMinor: 2500 }], { plan: false, caps: CAPS });
    const ctx = stageContext(db, w.config, w.runId);
    const rejection = await rejectRefundOf(w.paymentIds[0]!, '25.0001');
    const held = await planRefunds(ctx, w.runId);
    expect(held.created).toEqual([]);
    expect(held.held).toEqual([
      {
        discrepancyId: w.ids[0],
        rejectionId: rejection,
        reason: expect.stringContaining(`payment ${w.paymentIds[0]}`),
      },
    ]);

    const listed = (await listHolds(db.db)).find((h) => h.rejectionId === rejection)!;
    expect(listed).toMatchObject({
      state: 'holding',
      paymentId: w.paymentIds[0],
      release: null,
      refunds: [],
    });
    expect(formatHolds([listed])).toContain(`holds refunds of payment ${w.paymentIds[0]}`);

    // Unknown and blank are refused; the first release is kept, a second changes nothing.
    await expect(releaseHold(db.db, 987654321, { by: 'x', reason: 'y', at: new Date() })).rejects.toThrow(
      /^rejected record 987654321 not found/,
    );
    const at = new Date('2026-11-23T09:30:00Z');
    const first = await releaseHold(db.db, rejection, {
      by: 'Jane Roe',
      reason: 'confirmed with the gateway',
      at,
    });
    expect(first.released).toBe(true);
    expect(first.hold).toMatchObject({
      state: 'released',
      release: { by: 'Jane Roe', at: at.toISOString(), reason: 'confirmed with the gateway' },
    });
    expect(formatRelease(first)).toContain(`Released rejected record ${rejection}`);
    const second = await releaseHold(db.db, rejection, {
      by: 'Someone Else',
      reason: 'again',
      at: new Date(),
    });
    expect(second.released).toBe(false);
    expect(second.hold.release).toMatchObject({ by: 'Jane Roe', reason: 'confirmed with the gateway' });
    expect(formatRelease(second)).toMatch(/was already released by Jane Roe .*; nothing changed\.$/);
    const rows = await db.db
      .selectFrom('refund_hold_releases')
      .selectAll()
      .where('rejected_record_id', '=', rejection)
      .execute();
    expect(rows).toHaveLength(1);

    // Released: the candidate is planned, with a note of the release.
    const planned = await planRefunds(ctx, w.runId);
    expect(planned.created.map((a) => a.discrepancyId)).toEqual([w.ids[0]]);
    expect(planned.held).toEqual([]);
    expect(planned.released.map((r) => r.rejectionId)).toEqual([rejection]);

    // The gateway keeps sending the same unreadable text: still released. Another text of it: a new rejection holds.
    expect(await rejectRefundOf(w.paymentIds[0]!, '25.0001')).toBe(rejection);
    expect((await planRefunds(ctx, w.runId)).actions[0]!.held).toBeNull();
    const again = await rejectRefundOf(w.paymentIds[0]!, '25.00019');
    expect(again).not.toBe(rejection);
    const replanned = await planRefunds(ctx, w.runId);
    expect(replanned.actions[0]!.held?.rejectionId).toBe(again);
    expect((await listHolds(db.db)).find((h) => h.rejectionId === again)).toMatchObject({
      state: 'holding',
      refunds: [{ discrepancyId: w.ids[0], amountMinor: 2500, currency: 'EUR', state: 'planned' }],
    });
    await expect(exec(w, w.ids)).rejects.toThrow(/refund held/);
    expect(w.refundsAtGateway()).toEqual([]);
  });

  it('refuses to release a record a later pull resolved: it holds nothing', async () => {
    const w = await world([{ amountMinor: 900 }], { plan: false });
    const rejection = await rejectRefundOf(w.paymentIds[0]!, '9.0001');
    // The same window pulled again without meeting it resolves it.
    await db.db
      .transaction()
      .execute((trx) => recordRejections(trx, null, 'payunity', WINDOW, ['v3/query'], []));
    const err = await releaseHold(db.db, rejection, { by: 'x', reason: 'y', at: new Date() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^rejected record ${rejection} holds no refunds: no longer in the gateway's answer for its window .*; nothing to release$`,
      ),
    );
    expect(
      await db.db
        .selectFrom('refund_hold_releases')
        .selectAll()
        .where('rejected_record_id', '=', rejection)
        .execute(),
    ).toEqual([]);
  });
});
