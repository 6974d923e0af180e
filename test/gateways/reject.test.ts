// A bad gateway record is rejected with its reason and id, not fatal; the page's other records map; records nested
// too deep are refused before PostgreSQL sees them; card numbers in string values of stored raw JSON are masked.
import { describe, expect, it } from 'vitest';
import { readPayunityRecords, type SeenKeys } from '../../src/gateways/payunity/map.js';
import { maskCardsInJson } from '../../src/gateways/raw-mask.js';
import { recordTexts } from '../../src/gateways/record-texts.js';
import {
  MAX_RECORD_DEPTH,
  MAX_REJECTED_RAW,
  depthOf,
  mapOrReject,
  isRejected,
} from '../../src/gateways/reject.js';
import { rawJson } from '../../src/gateways/types.js';
import { mapUseepayRefund, useepayRefundIdentity } from '../../src/gateways/useepay/map.js';
import { gatewayRecord } from './helpers.js';

const window = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') };
const source = { provider: 'payunity', endpoint: 'v3/query', window } as const;
const PAN = '4111111111111111';
const rec = (over: Record<string, unknown>) => ({
  id: 'a'.repeat(32),
  paymentType: 'DB',
  amount: '10.00',
  currency: 'EUR',
  result: { code: '000.100.110' },
  timestamp: '2026-11-20 10:00:00.000+0000',
  ...over,
});

function page(records: unknown[], extra = '') {
  const text = `{"result":{"code":"000.000.100"},"pages":1,"records":[${records
    .map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))
    .join(',')}]${extra}}`;
  const parsed = JSON.parse(text) as { records: unknown[] };
  return { records: parsed.records, texts: recordTexts(text, 'records', parsed.records) };
}

describe('rejecting bad gateway records', () => {
  it('keeps the good records of a page and rejects each bad one with its id, reason and masked raw text', () => {
    const refund = 'b'.repeat(32);
    const p = page([
      rec({}),
      rec({
        id: refund,
        paymentType: 'RF',
        referencedId: 'c'.repeat(32),
        amount: '10.1234',
        currency: 'USD',
      }),
      rec({ id: undefined, descriptor: `card ${PAN}` }),
      rec({ id: 'd'.repeat(32), timestamp: 'yesterday-ish' }),
    ]);
    const out = readPayunityRecords(source, p.records, new Map(), p.texts);
    expect(out.records.map((r) => r.transactionId)).toEqual(['a'.repeat(32)]);
    expect(out.rejected).toHaveLength(3);
    const [bad, noId, badTime] = out.rejected;
    expect(bad).toMatchObject({
      provider: 'payunity',
      endpoint: 'v3/query',
      window,
      recordId: refund,
      gatewayType: 'RF',
      referencedId: 'c'.repeat(32),
      holdId: 'c'.repeat(32),
    });
    expect(bad!.reason).toMatch(/10\.1234/);
    expect(bad!.raw).toBe(p.texts!.texts[1]);
    // No id: nothing to hold by, so every refund candidate of the provider is held.
    expect(noId).toMatchObject({ recordId: null, holdId: null });
    expect(noId!.reason).toMatch(/without id/);
    expect(noId!.raw).not.toContain(PAN);
    expect(noId!.raw).toContain('411111******1111');
    expect(noId!.reason).not.toContain(PAN);
    // A debit is a payment of its own: it holds refunds of itself.
    expect(badTime).toMatchObject({ recordId: 'd'.repeat(32), holdId: 'd'.repeat(32) });
    expect(badTime!.reason).toMatch(/timestamp/);
  });

  it('does not remember a rejected record as seen: the same id mapped fine later is kept', () => {
    const seen: SeenKeys = new Map();
    const first = page([rec({ amount: '1.001' })]);
    expect(readPayunityRecords(source, first.records, seen, first.texts).rejected).toHaveLength(1);
    const second = page([rec({})]);
    expect(readPayunityRecords(source, second.records, seen, second.texts).records).toHaveLength(1);
  });

  it('caps the kept raw text like an overlong settlement line', () => {
    const p = page([rec({ amount: '1.001', note: 'x'.repeat(5000) })]);
    const [r] = readPayunityRecords(source, p.records, new Map(), p.texts).rejected;
    expect(r!.raw).toHaveLength(MAX_REJECTED_RAW);
    expect(r!.raw.endsWith('…')).toBe(true);
  });

  it('rejects a record nested deeper than the limit before anything serialises it, 100,000 levels too', () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const id = 'e'.repeat(32);
    const ok = `{"id":"${'f'.repeat(32)}","paymentType":"DB","amount":"1.00","currency":"EUR","timestamp":"2026-11-20 10:00:00+0000","x":${deep(MAX_RECORD_DEPTH - 1)}}`;
    const tooDeep = `{"id":"${id}","paymentType":"RF","referencedId":"${'c'.repeat(32)}","timestamp":"2026-11-20 10:00:00+0000","x":${deep(100_000)}}`;
    const p = page([ok, tooDeep, rec({})]);
    expect(p.texts!.depths).toEqual([MAX_RECORD_DEPTH, 100_001, 2]);
    const out = readPayunityRecords(source, p.records, new Map(), p.texts);
    expect(out.records.map((r) => r.transactionId)).toEqual(['f'.repeat(32), 'a'.repeat(32)]);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]).toMatchObject({ recordId: id, holdId: 'c'.repeat(32) });
    expect(out.rejected[0]!.reason).toMatch(/nested 100001 levels deep, more than 64/);
    // Without the page's texts the depth is measured on the parsed value, without recursion.
    const parsed = JSON.parse(tooDeep) as unknown;
    expect(depthOf(parsed, MAX_RECORD_DEPTH + 1)).toBe(MAX_RECORD_DEPTH + 1);
    const alone = readPayunityRecords(source, [parsed], new Map());
    expect(alone.rejected[0]!.reason).toMatch(/more than 64 levels deep/);
  });

  it('rejects a UseePay refund by what it names: its payment intent, or nothing', () => {
    const s = { provider: 'useepay', endpoint: 'refunds', window } as const;
    const named = {
      id: 'r1',
      payment_intent_id: 'pi1',
      amount: 10.1234,
      currency: 'USD',
      create_at: '2026-11-20T10:00:00Z',
    };
    const r = mapOrReject(s, named, undefined, undefined, mapUseepayRefund, useepayRefundIdentity);
    expect(isRejected(r) && r).toMatchObject({
      recordId: 'r1',
      referencedId: 'pi1',
      holdId: 'pi1',
      gatewayType: 'refund',
    });
    const bare = { id: 'r2', amount: 1, currency: 'USD', create_at: 'not a time' };
    const b = mapOrReject(s, bare, undefined, undefined, mapUseepayRefund, useepayRefundIdentity);
    expect(isRejected(b) && b).toMatchObject({ recordId: 'r2', holdId: null });
    expect(isRejected(b) && b.reason).toMatch(/create_at "not a time" is not an ISO time/);
  });
});

describe('card numbers in stored raw JSON', () => {
  it('masks a card number inside string values, keeps JSON numbers, ids and valid JSON', () => {
    const text = `{"id":"${PAN}","n":${PAN},"descriptor":"paid with ${PAN} ok","g":"4111 1111 1111 1111","t":"2026-11-20 10:00:00"}`;
    const masked = maskCardsInJson(text, [PAN]);
    expect(JSON.parse(masked)).toEqual({
      id: PAN,
      n: Number(PAN),
      descriptor: 'paid with 411111******1111 ok',
      g: '411111******1111',
      t: '2026-11-20 10:00:00',
    });
    expect(masked).toContain(`"n":${PAN}`);
    // Escaped quotes inside strings do not confuse the walk.
    const quoted = `{"a":"say \\"${PAN}\\"","b":"\\\\"}`;
    expect(JSON.parse(maskCardsInJson(quoted))).toEqual({ a: 'say "411111******1111"', b: '\\' });
  });

  it('returns the very same string when there is no long digit run', () => {
    const text = JSON.stringify(rec({ descriptor: '0734.6266.9254 OPP_Channel' }));
    expect(maskCardsInJson(text)).toBe(text);
  });

  it('is what a stored record carries', () => {
    const t = gatewayRecord('x1', { rawText: `{"id":"x1","card":{"number":"${PAN}"}}` });
    expect(rawJson(t)).toBe('{"id":"x1","card":{"number":"411111******1111"}}');
  });
});
