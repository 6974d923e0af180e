// The 600 real OPPWA records: the mapping must survive every quirk they show, and storage must value and link them.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapPayunityRecords } from '../../src/gateways/payunity/map.js';
import { storeTransactions } from '../../src/gateways/store.js';
import type { GatewayTransaction } from '../../src/gateways/types.js';
import { testDbPerSuite } from '../helpers/db.js';

// The shared fixture, in ../shared beside the project; PAYRECON_OPPWA_FIXTURE points elsewhere (e.g. to check the
// absent-file behaviour).
const FIXTURE =
  process.env.PAYRECON_OPPWA_FIXTURE ??
  fileURLToPath(new URL('../../../shared/fixtures/payunity/oppwa-v3-query-records.json', import.meta.url));
const present = existsSync(FIXTURE);
const required = process.env.PAYRECON_REQUIRE_FIXTURES === '1';

describe('fixture availability', () => {
  it.skipIf(present || !required)('PAYRECON_REQUIRE_FIXTURES=1 but the OPPWA fixture is missing', () => {
    expect.fail(`${FIXTURE} is required (PAYRECON_REQUIRE_FIXTURES=1) but absent`);
  });
  // Shown as a skipped test whose name says why, so the absence is visible in every report.
  if (!present) it.skip(`${FIXTURE} is absent: the real-record tests below are skipped`, () => undefined);
});

describe.skipIf(!present)('600 real OPPWA query records', () => {
  let raw: Record<string, unknown>[] = [];
  let txns: GatewayTransaction[] = [];
  const db = testDbPerSuite();

  beforeAll(() => {
    raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>[];
    txns = mapPayunityRecords(raw);
  });

  it('maps every record, removing the 7 repeated (id, paymentType) pairs but keeping the RG+CF id twice', () => {
    expect(raw).toHaveLength(600);
    expect(txns).toHaveLength(600 - 6);
    const ids = new Map<string, string[]>();
    for (const t of txns) ids.set(t.transactionId, [...(ids.get(t.transactionId) ?? []), t.gatewayType]);
    const twice = [...ids].filter(([, types]) => types.length > 1);
    expect(twice).toHaveLength(1);
    expect(twice[0]![1].sort()).toEqual(['CF', 'RG']);
  });

  it('gives every record a money kind or a deliberate non_money, with signs from the type', () => {
    const kinds = new Map<string, Set<string>>();
    for (const t of txns) kinds.set(t.gatewayType, (kinds.get(t.gatewayType) ?? new Set()).add(t.kind));
    const expected: Record<string, string> = {
      DB: 'payment',
      CP: 'payment',
      PA: 'authorization',
      RF: 'refund',
      CB: 'chargeback',
      RV: 'reversal',
      RI: 'non_money',
      '3D': 'non_money',
      RD: 'non_money',
      RG: 'non_money',
      CF: 'non_money',
      CD: 'non_money',
    };
    for (const [type, set] of kinds) expect([...set], type).toEqual([expected[type]]);
    for (const t of txns) {
      if (t.kind === 'non_money' && t.gatewayType !== 'CD') expect(t.amountMinor, t.transactionId).toBeNull();
      if (t.gatewayType === 'RF' && t.amountMinor !== null) expect(t.amountMinor).toBeLessThan(0);
      if (t.gatewayType === 'DB' && t.amountMinor !== null) expect(t.amountMinor).toBeGreaterThanOrEqual(0);
    }
    // One DB has no amount.
    expect(txns.filter((t) => t.gatewayType === 'DB' && t.amountMinor === null)).toHaveLength(1);
  });

  it('keeps the JPY amount exact ("56.00" -> 56 minor units)', () => {
    const jpy = txns.filter((t) => t.currency === 'JPY');
    expect(jpy).toHaveLength(1);
    expect(Math.abs(jpy[0]!.amountMinor!)).toBe(56);
  });

  it('classifies statuses by the result-code groups', () => {
    const byCode = (code: string) => txns.find((t) => t.resultCode === code)?.status;
    expect(byCode('000.100.110')).toBe('succeeded');
    expect(byCode('000.000.000')).toBe('succeeded');
    expect(byCode('000.400.060')).toBe('review');
    expect(byCode('000.100.200')).toBe('chargeback');
    expect(byCode('800.100.156')).toBe('failed');
  });

  it('stores them, links both 1.00 partial refunds to their debit and values chargebacks from their payments', async () => {
    const counts = await storeTransactions(db.db, null, txns);
    expect(counts).toEqual({ inserted: 594, updated: 0, unchanged: 0 });

    const refunds = await db.db
      .selectFrom('gateway_transactions')
      .selectAll()
      .where('gateway_type', '=', 'RF')
      .where('amount_minor', '=', -100)
      .execute();
    const byRoot = new Map<string, typeof refunds>();
    for (const r of refunds) byRoot.set(r.root_payment_id!, [...(byRoot.get(r.root_payment_id!) ?? []), r]);
    // gateways.md names one such debit; the file holds two (8ac7a4a089f6…6a62 and 8ac7a49f89f6…03f0): check both.
    const pairs = [...byRoot].filter(([, rs]) => rs.length === 2);
    expect(pairs.map(([id]) => id).sort()).toEqual([
      '8ac7a49f89f619ad0189f688336903f0',
      '8ac7a4a089f61d980189f68341986a62',
    ]);
    for (const [rootId, rs] of pairs) {
      expect(new Set(rs.map((r) => r.merchant_reference)).size).toBe(2);
      expect(rs.every((r) => r.referenced_id === rootId)).toBe(true);
      const root = await db.db
        .selectFrom('gateway_transactions')
        .selectAll()
        .where('transaction_id', '=', rootId)
        .executeTakeFirstOrThrow();
      expect(root.gateway_type).toBe('DB');
      expect(root.amount_minor).toBe(200);
      expect(root.referenced_id).toBeNull();
    }

    // Every follow-up whose chain is in the data reaches a record without referencedId.
    const orphans = await db.db
      .selectFrom('gateway_transactions as g')
      .innerJoin('gateway_transactions as r', (j) =>
        j.onRef('r.provider', '=', 'g.provider').onRef('r.transaction_id', '=', 'g.root_payment_id'),
      )
      .select(['g.transaction_id', 'r.referenced_id'])
      .where('r.referenced_id', 'is not', null)
      .execute();
    expect(orphans).toEqual([]);

    const cbs = await db.db
      .selectFrom('gateway_transactions')
      .selectAll()
      .where('gateway_type', '=', 'CB')
      .execute();
    expect(cbs).toHaveLength(5);
    for (const cb of cbs) {
      const parent = await db.db
        .selectFrom('gateway_transactions')
        .selectAll()
        .where('transaction_id', '=', cb.referenced_id!)
        .where('amount_minor', 'is not', null)
        .executeTakeFirst();
      if (!parent) continue;
      expect(cb.amount_minor).toBe(-Math.abs(parent.amount_minor!));
      expect(cb.currency).toBe(parent.currency);
    }
    // Each of the five references a DB in the file (JPY among them: "56.00" -> 56).
    expect(cbs.map((c) => `${c.amount_minor} ${c.currency}`).sort()).toEqual([
      '-1234 EUR',
      '-2345 USD',
      '-3456 GBP',
      '-4567 CHF',
      '-56 JPY',
    ]);
  });

  it('re-storing the same records changes nothing; storing children before parents still links them', async () => {
    expect(await storeTransactions(db.db, null, txns)).toEqual({ inserted: 0, updated: 0, unchanged: 594 });
    await db.db.deleteFrom('gateway_transactions').execute();
    // Children first, in separate batches: the walk must be completed when the parents arrive.
    const children = txns.filter((t) => t.referencedId !== null);
    const parents = txns.filter((t) => t.referencedId === null);
    for (let i = 0; i < children.length; i += 50)
      await storeTransactions(db.db, null, children.slice(i, i + 50));
    await storeTransactions(db.db, null, parents);
    const cb = await db.db
      .selectFrom('gateway_transactions')
      .select(['amount_minor'])
      .where('gateway_type', '=', 'CB')
      .where('amount_minor', 'is not', null)
      .execute();
    expect(cb.length).toBeGreaterThan(0);
    const orphans = await db.db
      .selectFrom('gateway_transactions as g')
      .innerJoin('gateway_transactions as r', (j) =>
        j.onRef('r.provider', '=', 'g.provider').onRef('r.transaction_id', '=', 'g.root_payment_id'),
      )
      .select(['g.transaction_id'])
      .where('r.referenced_id', 'is not', null)
      .execute();
    expect(orphans).toEqual([]);
  });
});
