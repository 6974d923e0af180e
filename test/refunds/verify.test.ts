// Verification of executed refunds: at the gateway (the simulators, over real HTTP) and in settlement lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRefunds, verifyRefunds } from '../../src/refunds/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { realClients, stageContext } from './fixtures.js';
import { startWorld, type World } from './world.js';

const db = testDbPerSuite();
let w: World;
beforeAll(async () => {
  w = await startWorld(db, [
    { amountMinor: 1100 },
    { amountMinor: 2200, provider: 'useepay', currency: 'USD' },
  ]);
  await executeRefunds(stageContext(db, w.config, w.runId), w.runId, { ids: w.ids }, realClients(w.config));
});
afterAll(async () => {
  await w.close();
});

const at = (iso: string) => ({ ...stageContext(db, w.config, w.runId), now: () => new Date(iso) });

describe('verifyRefunds', () => {
  it('confirms succeeded refunds at the gateway, then in settlement lines, and reports those overdue', async () => {
    const actions = await db.db
      .selectFrom('refund_actions')
      .selectAll()
      .where('discrepancy_id', 'in', w.ids)
      .orderBy('discrepancy_id')
      .execute();
    expect(actions.map((a) => a.state)).toEqual(['succeeded', 'succeeded']);
    const finished = actions[0]!.finished_at!;

    // the same day: both confirmed at the gateway, none settled yet, none overdue
    const first = await verifyRefunds(
      { ...stageContext(db, w.config, w.runId), now: () => finished },
      realClients(w.config),
    );
    expect(first).toMatchObject({
      resolvedInFlight: 0,
      checkedAtGateway: 2,
      verifiedAtGateway: 2,
      failedAtGateway: 0,
      settled: 0,
      overdue: [],
    });
    const verified = await db.db
      .selectFrom('refund_actions')
      .select('verified_at')
      .where('discrepancy_id', 'in', w.ids)
      .execute();
    expect(verified.every((v) => v.verified_at !== null)).toBe(true);

    // one of them shows up in a settlement file as a refund line with the gateway's refund id
    const payunity = actions.find((a) => a.provider === 'payunity')!;
    const file = await db.db
      .insertInto('settlement_files')
      .values({
        provider: 'payunity',
        remote_path: '/in/x.csv',
        file_name: 'x.csv',
        size: 1,
        sha256: 'a'.repeat(64),
        profile: 'payunity',
        status: 'loaded',
        settlement_date: '2026-11-20',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const line = await db.db
      .insertInto('settlement_lines')
      .values({
        file_id: file.id,
        line_no: 1,
        provider: 'payunity',
        settlement_date: '2026-11-20',
        kind: 'refund',
        transaction_id: payunity.gateway_refund_id,
        currency: 'EUR',
        gross_minor: -1100,
        fee_minor: 0,
        net_minor: -1100,
        raw: 'x',
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    // two weeks later: the settled one is matched to its line, the other is overdue past the lag
    const later = new Date(finished.getTime() + 14 * 86_400_000).toISOString();
    const second = await verifyRefunds(at(later));
    expect(second.settled).toBe(1);
    expect(second.checkedAtGateway).toBe(0);
    const useepay = actions.find((a) => a.provider === 'useepay')!;
    expect(second.overdue).toEqual([
      expect.objectContaining({
        actionId: useepay.id,
        provider: 'useepay',
        gatewayRefundId: useepay.gateway_refund_id,
        amountMinor: 2200,
        currency: 'USD',
      }),
    ]);
    const settled = await db.db
      .selectFrom('refund_actions')
      .select('settled_line_id')
      .where('id', '=', payunity.id)
      .executeTakeFirstOrThrow();
    expect(settled.settled_line_id).toBe(line.id);
    // idempotent
    expect((await verifyRefunds(at(later))).settled).toBe(0);
  });

  it('resolves a refund a dead or timed-out execution left unknown by looking it up, without sending', async () => {
    const t = await startWorld(db, [{ amountMinor: 3300 }], { faults: { refundTimeoutAfterApply: 1 } });
    try {
      const r = await executeRefunds(
        stageContext(db, t.config, t.runId),
        t.runId,
        { ids: t.ids },
        realClients(t.config),
      );
      expect(r.actions[0]?.state).toBe('unknown');
      const v = await verifyRefunds(stageContext(db, t.config, t.runId), realClients(t.config));
      expect(v.resolvedInFlight).toBe(1);
      const a = await db.db
        .selectFrom('refund_actions')
        .selectAll()
        .where('discrepancy_id', '=', t.ids[0]!)
        .executeTakeFirstOrThrow();
      expect(a.state).toBe('succeeded');
      expect(t.refundsAtGateway()).toHaveLength(1);
      expect(a.gateway_refund_id).toBeTruthy();
    } finally {
      await t.close();
    }
  });
});
