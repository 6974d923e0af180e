// Wire-format mappings on their own: exact amounts, timestamps, statuses, unknown fields.
import { describe, expect, it } from 'vitest';
import {
  mapPayunityRecord,
  mapPayunityRecords,
  parseOppwaTimestamp,
  type SeenKeys,
  statusFromResultCode,
} from '../../src/gateways/payunity/map.js';
import type { UseepayConfig } from '../../src/config/schema.js';
import { UseepayClient } from '../../src/gateways/useepay/client.js';
import { RefundUnknownError } from '../../src/gateways/types.js';
import { mapUseepayIntent, mapUseepayRefund, useepayRefundStatus } from '../../src/gateways/useepay/map.js';
import { silentLogger } from '../../src/shared/log.js';
import { GatewayError } from '../../src/shared/errors.js';

const rec = (over: Record<string, unknown>) => ({
  id: 'a'.repeat(32),
  paymentType: 'DB',
  amount: '92.00',
  currency: 'EUR',
  result: { code: '000.100.110', random_injected: 'x' },
  timestamp: '2023-08-15 00:05:51.240+0000',
  surprise: { nested: true },
  ...over,
});

describe('PayUnity mapping', () => {
  it('drops a repeated (id, paymentType) across the pages of a window, and keeps one id under two types', () => {
    const seen: SeenKeys = new Map();
    const b = 'b'.repeat(32);
    const first = mapPayunityRecords([rec({}), rec({ id: b, paymentType: 'RG', amount: undefined })], seen);
    const second = mapPayunityRecords(
      [
        rec({ amount: '1.00' }),
        rec({ id: b, paymentType: 'CF', amount: undefined }),
        rec({ id: b, paymentType: 'RG' }),
      ],
      seen,
    );
    expect(first.map((t) => [t.transactionId[0], t.gatewayType])).toEqual([
      ['a', 'DB'],
      ['b', 'RG'],
    ]);
    expect(second.map((t) => [t.transactionId[0], t.gatewayType])).toEqual([['b', 'CF']]);
    // A page on its own (no window's keys given) keeps what it has not seen itself.
    expect(mapPayunityRecords([rec({}), rec({})])).toHaveLength(1);
  });

  it('reads timestamps with and without milliseconds as UTC', () => {
    expect(parseOppwaTimestamp('2023-08-15 00:05:51.240+0000').toISOString()).toBe(
      '2023-08-15T00:05:51.240Z',
    );
    expect(parseOppwaTimestamp('2022-08-25 14:24:36+0000').toISOString()).toBe('2022-08-25T14:24:36.000Z');
    expect(() => parseOppwaTimestamp('15.08.2023')).toThrow();
  });

  it('signs amounts by type, exactly, and refuses real extra precision', () => {
    expect(mapPayunityRecord(rec({})).amountMinor).toBe(9200);
    expect(mapPayunityRecord(rec({ paymentType: 'RF', amount: '0.29' })).amountMinor).toBe(-29);
    expect(mapPayunityRecord(rec({ amount: '56.00', currency: 'JPY' })).amountMinor).toBe(56);
    expect(mapPayunityRecord(rec({ amount: '1.234', currency: 'KWD' })).amountMinor).toBe(1234);
    expect(() => mapPayunityRecord(rec({ amount: '56.50', currency: 'JPY' }))).toThrow(GatewayError);
    expect(() => mapPayunityRecord(rec({ amount: '10.001' }))).toThrow(/more decimals/);
    expect(mapPayunityRecord(rec({ paymentType: '3D', currency: 'OPS', amount: '1.00' }))).toMatchObject({
      kind: 'non_money',
      amountMinor: null,
      currency: null,
    });
  });

  it('refuses an amount or currency that is not a string, and an empty id, naming the record', () => {
    expect(() => mapPayunityRecord(rec({ amount: 92 }))).toThrow(
      `payunity record ${'a'.repeat(32)} (DB): amount 92 is a number, not a string`,
    );
    expect(() => mapPayunityRecord(rec({ currency: 978 }))).toThrow(
      `payunity record ${'a'.repeat(32)} (DB): currency 978 is a number, not a string`,
    );
    expect(() => mapPayunityRecord(rec({ currency: 'XXX' }))).toThrow(
      `payunity record ${'a'.repeat(32)} (DB): currency "XXX" is not an ISO 4217 payment currency`,
    );
    expect(() => mapPayunityRecord(rec({ id: '' }))).toThrow(/record without id, paymentType or timestamp/);
    expect(() => mapPayunityRecord(rec({ id: '  ' }))).toThrow(GatewayError);
  });

  it('groups result codes as OPPWA documents them', () => {
    expect(
      ['000.000.000', '000.100.112', '000.300.000', '000.600.000', '000.400.110'].map(statusFromResultCode),
    ).toEqual(Array(5).fill('succeeded'));
    expect(['000.400.000', '000.400.100'].map(statusFromResultCode)).toEqual(['review', 'review']);
    expect(statusFromResultCode('000.400.030')).toBe('failed');
    expect(statusFromResultCode('000.200.000')).toBe('pending');
    expect(statusFromResultCode('800.400.500')).toBe('pending_long');
    expect(statusFromResultCode('100.400.500')).toBe('pending_long');
    expect(statusFromResultCode('000.100.201')).toBe('chargeback');
    expect(statusFromResultCode('700.400.200')).toBe('failed');
  });
});

describe('UseePay mapping', () => {
  const intent = (over: Record<string, unknown>) => ({
    id: '1012411211459019141',
    merchant_order_id: 'M-1',
    amount: 100.23,
    currency: 'USD',
    status: 'succeeded',
    captured_amount: null,
    create_at: '2024-10-25T07:14:09Z',
    unknown_field: [1],
    ...over,
  });

  it('converts JSON-number amounts exactly and values a succeeded intent by its captured amount', () => {
    expect(mapUseepayIntent(intent({})).amountMinor).toBe(10023);
    expect(mapUseepayIntent(intent({ amount: 0.29, captured_amount: null })).amountMinor).toBe(29);
    expect(mapUseepayIntent(intent({ amount: 100, captured_amount: 80.1 })).amountMinor).toBe(8010);
    expect(mapUseepayIntent(intent({ amount: 1005, currency: 'JPY' })).amountMinor).toBe(1005);
    expect(() => mapUseepayIntent(intent({ amount: 10.005 }))).toThrow(GatewayError);
    expect(mapUseepayIntent(intent({ status: 'requires_capture', captured_amount: null }))).toMatchObject({
      status: 'requires_capture',
      amountMinor: 10023,
    });
    expect(
      mapUseepayIntent(intent({ status: 'failed', last_payment_error: { code: 'card_declined' } })),
    ).toMatchObject({ status: 'failed', resultCode: 'card_declined' });
    expect(
      mapUseepayIntent(
        intent({ create_at: undefined, created_at: '2024-10-25T07:14:09.500Z' }),
      ).transactionTime.toISOString(),
    ).toBe('2024-10-25T07:14:09.500Z');
  });

  it('reads decimal text exactly, refuses what only a float parser takes, and negative intents', () => {
    expect(mapUseepayIntent(intent({ amount: '10.50' })).amountMinor).toBe(1050);
    expect(mapUseepayIntent(intent({ amount: '0.100', currency: 'BHD' })).amountMinor).toBe(100);
    for (const amount of ['0x10', '1e3', '10.505', 'ten'])
      expect(() => mapUseepayIntent(intent({ amount })), amount).toThrow(GatewayError);
    expect(() => mapUseepayIntent(intent({ amount: -5 }))).toThrow(/negative/);
    expect(() => mapUseepayIntent(intent({ currency: 'BTC' }))).toThrow(
      'useepay payment intent 1012411211459019141: currency "BTC" is not an ISO 4217 payment currency',
    );
  });

  it('reads a time without an offset as UTC, whatever the host time zone', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(
        mapUseepayIntent(intent({ create_at: '2024-10-25T07:14:09' })).transactionTime.toISOString(),
      ).toBe('2024-10-25T07:14:09.000Z');
      expect(
        mapUseepayIntent(intent({ create_at: '2024-10-25T09:14:09+02:00' })).transactionTime.toISOString(),
      ).toBe('2024-10-25T07:14:09.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('maps refunds negative, pointing at their intent', () => {
    const r = mapUseepayRefund({
      id: '77',
      payment_intent_id: '1012411211459019141',
      amount: 10.5,
      currency: 'USD',
      status: 'accepted',
      metadata: { payrecon_idempotency_key: 'k' },
      create_at: '2024-10-26T00:00:00Z',
    });
    expect(r).toMatchObject({
      kind: 'refund',
      gatewayType: 'refund',
      status: 'pending',
      amountMinor: -1050,
      rootPaymentId: '1012411211459019141',
      referencedId: '1012411211459019141',
    });
  });
});

describe('UseePay refund statuses', () => {
  it('read the same whether a refund is pulled or is the answer to creating one; unknown is pending, never failed', async () => {
    const answer = (status: string | undefined) =>
      new UseepayClient(
        {
          baseUrl: 'http://useepay.test',
          merchantNo: '1',
          appId: 'a',
          apiKey: 'k',
          apiVersion: 'v2',
          settlementLagDays: 2,
          pull: { trailingDays: 0, timeoutSeconds: 5, retries: 0, concurrency: 1 },
        } as unknown as UseepayConfig,
        {
          log: silentLogger(),
          fetch: () =>
            Promise.resolve(
              new Response(JSON.stringify({ id: 'rf_1', status, payment_intent_id: 'pi_1' }), {
                status: 200,
              }),
            ),
        },
      ).createRefund({
        paymentId: 'pi_1',
        amountMinor: 100,
        currency: 'EUR',
        idempotencyKey: 'k1',
        reason: 'test',
      });
    expect(useepayRefundStatus('processing')).toBe('pending');
    expect((await answer('processing')).state).toBe('pending');
    expect(useepayRefundStatus('received')).toBe('pending');
    expect((await answer('received')).state).toBe('pending');
    expect(useepayRefundStatus('succeeded')).toBe('succeeded');
    expect((await answer('succeeded')).state).toBe('succeeded');
    expect(useepayRefundStatus('cancelled')).toBe('cancelled');
    expect((await answer('cancelled')).state).toBe('failed');
    // No status at all: the answer says nothing clear, and the refund may exist: unknown, to be looked up.
    await expect(answer(undefined)).rejects.toBeInstanceOf(RefundUnknownError);
  });
});
