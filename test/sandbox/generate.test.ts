// The sandbox world generator: deterministic, realistic wire data, and an answer key that is exactly what an
// independent reading of docs/matching.md finds in the generated files and records (test/sandbox/reference.ts).
import { describe, expect, it } from 'vitest';
import {
  answerKeyAt,
  awaitingAt,
  DISCREPANCY_TYPES,
  discrepancyId,
  generateWorld,
  type World,
} from '../../src/sandbox/generate/index.js';
import { referenceDiscrepancies } from './reference.js';

const base = { seed: 20261121, from: '2026-11-02', to: '2026-11-15', asOf: '2026-11-16', paymentsPerDay: 60 };

const strip = (e: {
  provider: string;
  type: string;
  transactionId: string;
  gatewayAmountMinor: number | null;
  settledAmountMinor: number | null;
}): string => `${e.provider}|${e.type}|${e.transactionId}|${e.gatewayAmountMinor}|${e.settledAmountMinor}`;

function expectKeyMatchesReference(world: World): void {
  const ref = referenceDiscrepancies(world);
  expect(world.answerKey.map(strip).sort()).toEqual(ref.entries.map(strip).sort());
  expect(world.awaiting.map((a) => a.transactionId).sort()).toEqual([...ref.awaiting].sort());
}

describe('generateWorld', () => {
  const world = generateWorld(base);

  it('is deterministic: the same seed gives byte-identical files, records and key', () => {
    const again = generateWorld(base);
    expect(again.settlementFiles.map((f) => f.name)).toEqual(world.settlementFiles.map((f) => f.name));
    again.settlementFiles.forEach((f, i) =>
      expect(f.content.equals(world.settlementFiles[i]!.content)).toBe(true),
    );
    expect(JSON.stringify(again.data)).toBe(JSON.stringify(world.data));
    expect(again.answerKey).toEqual(world.answerKey);
    const other = generateWorld({ ...base, seed: base.seed + 1 });
    expect(JSON.stringify(other.data)).not.toBe(JSON.stringify(world.data));
  });

  it('plants every discrepancy type for both providers, as many as asked', () => {
    for (const provider of ['payunity', 'useepay'] as const) {
      for (const type of DISCREPANCY_TYPES) {
        const planted = world.answerKey.filter(
          (e) => e.provider === provider && e.type === type && e.planted,
        );
        // missing_in_settlement also carries the late-settled payment (payunity, the first provider).
        const extra = type === 'missing_in_settlement' && provider === 'payunity' ? 1 : 0;
        expect(planted.length, `${provider} ${type}`).toBe(2 + extra);
      }
    }
    const counts = generateWorld({ ...base, plant: { fee_mismatch: 5, duplicate_charge: 0 } }).answerKey;
    expect(counts.filter((e) => e.type === 'fee_mismatch' && e.provider === 'useepay')).toHaveLength(5);
    expect(counts.filter((e) => e.type === 'duplicate_charge')).toHaveLength(0);
  });

  it('has an answer key equal to an independent reading of matching.md, with nothing accidental', () => {
    expectKeyMatchesReference(world);
    expect(world.answerKey.every((e) => e.planted)).toBe(true);
  });

  it('repeats PayUnity records byte for byte when asked, leaving the rest of the world unchanged', () => {
    const repeated = generateWorld({ ...base, repeatedRecords: 5 });
    expect(repeated.data.payunity).toHaveLength(world.data.payunity.length + 5);
    const tail = repeated.data.payunity.slice(-5).map((r) => JSON.stringify(r));
    for (const t of tail) expect(world.data.payunity.some((r) => JSON.stringify(r) === t)).toBe(true);
    expect(repeated.answerKey).toEqual(world.answerKey);
    expectKeyMatchesReference(repeated);
  });

  it('keeps the key honest when asOf is far past `to` (unsettled movements become missing) or equals it', () => {
    const late = generateWorld({ ...base, seed: 7, asOf: '2026-11-30' });
    expectKeyMatchesReference(late);
    expect(late.answerKey.some((e) => !e.planted && e.type === 'missing_in_settlement')).toBe(true);
    expect(late.awaiting).toHaveLength(0);
    const same = generateWorld({
      ...base,
      seed: 8,
      to: '2026-11-13',
      asOf: '2026-11-13',
      lateSettlement: false,
    });
    expectKeyMatchesReference(same);
    expect(same.awaiting.length).toBeGreaterThan(0);
  });

  it('values each type as matching.md says', () => {
    const byType = (t: string) => world.answerKey.filter((e) => e.type === t);
    for (const e of world.answerKey) {
      expect(e.id).toBe(discrepancyId(e.provider, e.type, e.transactionId));
      expect(e.id).toMatch(/^D[0-9a-f]{16}$/);
      expect(e.differenceMinor).toBe(
        e.type === 'currency_mismatch'
          ? null
          : e.type === 'refund_exceeds_payment'
            ? (e.gatewayAmountMinor ?? 0) + (e.settledAmountMinor ?? 0)
            : (e.settledAmountMinor ?? 0) - (e.gatewayAmountMinor ?? 0),
      );
      if (e.type === 'refund_exceeds_payment') expect(e.differenceMinor).toBeLessThan(0);
    }
    for (const e of byType('missing_in_settlement'))
      expect([e.gatewayAmountMinor! > 0, e.settledAmountMinor]).toEqual([true, null]);
    for (const e of byType('missing_in_gateway'))
      expect([e.gatewayAmountMinor, e.settledAmountMinor! > 0]).toEqual([null, true]);
    const amount = byType('amount_mismatch');
    expect(amount.some((e) => e.differenceMinor! > 0) && amount.some((e) => e.differenceMinor! < 0)).toBe(
      true,
    );
    for (const e of byType('duplicate_settlement'))
      expect(e.settledAmountMinor).toBe(2 * e.gatewayAmountMinor!);
    for (const e of byType('refund_exceeds_payment'))
      expect(-e.settledAmountMinor!).toBeGreaterThan(e.gatewayAmountMinor!);
    for (const e of byType('currency_mismatch')) {
      expect(e.settledCurrency).not.toBe(e.currency);
      expect([e.settledAmountMinor, e.settledGrossMinor! > 0]).toEqual([null, true]);
    }
    for (const e of byType('fee_mismatch')) expect(Math.abs(e.differenceMinor!)).toBeGreaterThan(1);
  });

  it('makes missing_in_gateway ids unknown to the gateways, and duplicate charges share a reference', () => {
    const known = new Set(
      [...world.data.payunity, ...world.data.useepay.intents, ...world.data.useepay.refunds].map((r) =>
        String(r.id),
      ),
    );
    const missing = world.answerKey.filter((e) => e.type === 'missing_in_gateway');
    expect(missing).toHaveLength(4);
    for (const e of missing) expect(known.has(e.transactionId)).toBe(false);
    for (const e of world.answerKey.filter((x) => x.type === 'duplicate_charge')) {
      const rec = [...world.data.payunity, ...world.data.useepay.intents].find(
        (r) => r.id === e.transactionId,
      )!;
      const ref = rec.merchantTransactionId ?? rec.merchant_order_id;
      const same = [...world.data.payunity, ...world.data.useepay.intents].filter(
        (r) => (r.merchantTransactionId ?? r.merchant_order_id) === ref,
      );
      expect(same).toHaveLength(2);
    }
  });

  it('exposes a late settlement: past its deadline as of asOf, in a file dated after `to` and asOf', () => {
    const late = world.lateSettled!;
    expect(late.file.settlementDate > world.options.to && late.file.settlementDate > world.options.asOf).toBe(
      true,
    );
    expect(late.deadline < world.options.asOf).toBe(true);
    expect(world.answerKey.find((e) => e.transactionId === late.transactionId)?.type).toBe(
      'missing_in_settlement',
    );
    expect(world.settlementFiles.some((f) => f.name === late.file.name)).toBe(false);
    // With the late file loaded, the same world has exactly one discrepancy fewer.
    const ref = referenceDiscrepancies(world, world.options.asOf, [late.file]);
    expect(ref.entries.map(strip).sort()).toEqual(
      world.answerKey
        .filter((e) => e.transactionId !== late.transactionId)
        .map(strip)
        .sort(),
    );
    // The carry-forward rerun: clock on the late file's date, late file loaded; the awaiting have become missing.
    const later = late.file.settlementDate;
    const rerun = answerKeyAt(world, later, { lateFileLoaded: true });
    expect(rerun.map(strip).sort()).toEqual(
      referenceDiscrepancies(world, later, [late.file]).entries.map(strip).sort(),
    );
    expect(rerun.some((e) => e.transactionId === late.transactionId)).toBe(false);
    expect(rerun.length).toBeGreaterThan(world.answerKey.length);
    const still = awaitingAt(world, later);
    expect(still.length).toBeLessThan(world.awaiting.length);
    expect(still.map((a) => a.transactionId).sort()).toEqual(
      referenceDiscrepancies(world, later, [late.file]).awaiting.sort(),
    );
  });

  it('produces realistic PayUnity records', () => {
    const recs = world.data.payunity;
    const types = new Set(recs.map((r) => r.paymentType));
    for (const t of ['DB', 'PA', 'CP', 'RF', 'RV', 'CB', 'CR', '3D', 'RI'])
      expect(types.has(t), t).toBe(true);
    for (const r of recs) {
      expect(r.id).toMatch(/^[0-9a-f]{32}$/);
      expect(r.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?\+0000$/);
      if (r.paymentType === 'CB') {
        expect([r.amount, r.currency, typeof r.referencedId]).toEqual([undefined, undefined, 'string']);
        expect((r.result as { code: string }).code).toMatch(/^000\.100\.2/);
      } else if (r.amount !== undefined) {
        expect(r.amount).toMatch(/^\d+\.\d{2}$/);
        if (r.currency === 'JPY') expect(r.amount).toMatch(/\.00$/);
      }
      if (['CP', 'RF', 'RV', 'CR'].includes(String(r.paymentType)))
        expect(typeof r.referencedId).toBe('string');
    }
    const codes = recs.map((r) => (r.result as { code: string }).code);
    expect(codes.some((c) => c.startsWith('800.100.'))).toBe(true);
    expect(codes).toContain('000.200.000');
    const refunded = new Map<string, number>();
    for (const r of recs)
      if (r.paymentType === 'RF')
        refunded.set(String(r.referencedId), (refunded.get(String(r.referencedId)) ?? 0) + 1);
    expect([...refunded.values()].some((n) => n >= 2)).toBe(true);
    const refs = recs
      .filter((r) => r.paymentType === 'DB' || r.paymentType === 'PA')
      .map((r) => r.merchantTransactionId);
    expect(new Set(refs).size).toBe(refs.length - 2); // the two planted duplicate charges
  });

  it('produces realistic UseePay intents and refunds, ids as text, JPY whole', () => {
    const { intents, refunds } = world.data.useepay;
    const statuses = new Set(intents.map((i) => i.status));
    for (const s of ['succeeded', 'failed', 'cancelled', 'requires_capture'])
      expect(statuses.has(s), s).toBe(true);
    expect(
      intents.some(
        (i) =>
          i.auto_capture === false &&
          i.status === 'succeeded' &&
          (i.captured_amount as number) < (i.amount as number),
      ),
    ).toBe(true);
    for (const i of intents) {
      expect(typeof i.id).toBe('string');
      expect(i.id).toMatch(/^\d{19}$/);
      expect(typeof i.amount).toBe('number');
      if (i.currency === 'JPY') expect(Number.isInteger(i.amount)).toBe(true);
      expect(i.create_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
    expect(new Set(refunds.map((r) => r.status))).toEqual(new Set(['succeeded', 'failed']));
    for (const r of refunds) expect(r.id).toMatch(/^[0-9a-f]{32}$/);
  });
});
