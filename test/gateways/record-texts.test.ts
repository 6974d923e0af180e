// Each record's own text, cut from the page or taken whole from a lookup's answer: exactly what JSON.parse read.
import { describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../src/gateways/index.js';
import { arrayElementTexts, recordTexts } from '../../src/gateways/record-texts.js';
import { rawJson, type GatewayClient, type GatewayTransaction } from '../../src/gateways/types.js';
import { silentLogger } from '../../src/shared/log.js';
import { gatewayConfig, noSleep } from './helpers.js';

describe('arrayElementTexts', () => {
  it('cuts out each element as written: whitespace around it dropped, inside it kept', () => {
    const text =
      '{ "pages" : 1 ,\n  "records" : [\n    { "id" : "a", "amount": "10.50" } ,\n\t[1, 2],"s" , 1.50e1 , null ,true\n  ]\n}';
    expect(arrayElementTexts(text, 'records')).toEqual([
      '{ "id" : "a", "amount": "10.50" }',
      '[1, 2]',
      '"s"',
      '1.50e1',
      'null',
      'true',
    ]);
    expect(arrayElementTexts('{"records":[]}', 'records')).toEqual([]);
    expect(arrayElementTexts('{"records":[ \n ]}', 'records')).toEqual([]);
  });

  it('follows strings: quotes, backslashes and brackets inside them are text', () => {
    const records = [{ a: 'q"uo\\"te', b: '\\', c: 'x\\\\', d: '[{]},:"' }, { e: 'é ✓ 𝄞 \u0000\n' }];
    const text = JSON.stringify({ note: '"records":[', records });
    expect(arrayElementTexts(text, 'records')).toEqual(records.map((r) => JSON.stringify(r)));
  });

  it('reads only the top-level member, and the last of several (as JSON.parse does), an escaped name included', () => {
    const text =
      '{"x":{"records":[9]},"records":[1,2],"y":[{"records":[8]}],"rec\\u006frds":[ {"a":"]"} , 3 ]}';
    expect(arrayElementTexts(text, 'records')).toEqual(['{"a":"]"}', '3']);
    expect((JSON.parse(text) as { records: unknown }).records).toEqual([{ a: ']' }, 3]);
    expect(arrayElementTexts('{"records":[1],"records":{"a":[2]}}', 'records')).toBeNull();
    expect(arrayElementTexts('{"records":null}', 'records')).toBeNull();
    expect(arrayElementTexts('{"items":[1]}', 'records')).toBeNull();
    expect(arrayElementTexts('[{"records":[1]}]', 'records')).toBeNull();
  });

  it('agrees with JSON.parse on thousands of generated documents', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const strings = ['a', '', 'q"uo\\"te', '\\', 'x\\\\', '[{]}', 'é✓𝄞', 'records', ':,', '\u0000\n\t'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return pick([1, -2.5e10, 0.1, true, false, null, pick(strings)]);
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [pick(strings), value(depth + 1)]),
      );
    };
    let arrays = 0;
    for (let n = 0; n < 5000; n++) {
      const doc: Record<string, unknown> = {};
      for (let i = 0; i < random() * 3; i++) doc[pick(strings)] = value(1);
      if (random() < 0.9) doc.records = Array.from({ length: Math.floor(random() * 5) }, () => value(1));
      const text = JSON.stringify(doc, null, pick([undefined, 2, '\t']));
      const parsed = (JSON.parse(text) as { records?: unknown }).records;
      const texts = arrayElementTexts(text, 'records');
      if (!Array.isArray(parsed)) {
        expect(texts).toBeNull();
        continue;
      }
      arrays++;
      expect(texts!.map((t) => JSON.parse(t) as unknown)).toEqual(parsed);
    }
    expect(arrays).toBeGreaterThan(4000);
  });
});

describe('recordTexts', () => {
  it('gives one text per parsed record, or none at all', () => {
    expect(recordTexts('{"records":[{"a":1}, {"b":[2]}]}', 'records', [{ a: 1 }, { b: [2] }])).toEqual({
      texts: ['{"a":1}', '{"b":[2]}'],
      depths: [1, 2],
    });
    // Brackets inside strings are no nesting; scalars have none.
    expect(recordTexts('{"records":[{"a":"[[["}, 3]}', 'records', [{ a: '[[[' }, 3])?.depths).toEqual([1, 0]);
    expect(recordTexts('{"records":[{"a":1}]}', 'records', [{ a: 1 }, { b: 2 }])).toBeUndefined();
    expect(recordTexts('{}', 'records', [])).toBeUndefined();
  });
});

describe('a pull keeps each record as the gateway wrote it', () => {
  // Pages written as a gateway might: indented, numbers spelled with trailing zeros, a record sent twice, escapes.
  const oppwa = `{
  "result" : { "code" : "000.000.100", "description" : "successful request" },
  "pages" : 1,
  "records" : [
    { "id" : "8ac7a4a0000000000000000000000001", "paymentType" : "DB", "amount" : "10.50", "currency" : "EUR",
      "merchantTransactionId" : "ORDER-1", "result" : { "code" : "000.100.110" },
      "timestamp" : "2026-11-02 10:00:00.000+0000", "descriptor" : "caf\\u00e9 \\"bar\\"" },
    {"id":"8ac7a4a0000000000000000000000002","paymentType":"RF","referencedId":"8ac7a4a0000000000000000000000001","amount":"1.00","currency":"EUR","result":{"code":"000.100.110"},"timestamp":"2026-11-02 11:00:00+0000"},
    {"id":"8ac7a4a0000000000000000000000002","paymentType":"RF","referencedId":"8ac7a4a0000000000000000000000001","amount":"1.00","currency":"EUR","result":{"code":"000.100.110"},"timestamp":"2026-11-02 11:00:00+0000"}
  ]
}`;
  const useepay = (endpoint: string) =>
    endpoint === 'payment_intents'
      ? `{"data": [ {"id": "1012411211459019141", "merchant_order_id": "UO-1", "amount": 20.10, "currency": "USD",
  "status": "succeeded", "captured_amount": 20.10, "create_at": "2026-11-02T07:14:09Z", "metadata": {}} ],
  "has_more": false}`
      : '{"items":[],"has_more":false}';

  const sim = { payunityUrl: 'http://payunity.invalid', useepayUrl: 'http://useepay.invalid' };
  const credentials = {
    payunity: { entityId: 'e', accessToken: 't' },
    useepay: { merchantNo: '1', appId: 'a', apiKey: 'k' },
  };
  // The clients hand the transport a URL string.
  const fetchFn = ((url: string) => {
    const u = new URL(url);
    const body = u.hostname.startsWith('payunity') ? oppwa : useepay(u.pathname.split('/').pop()!);
    return Promise.resolve(
      new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
    );
  }) as typeof fetch;
  const day = { from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') };

  async function pull(provider: 'payunity' | 'useepay'): Promise<GatewayTransaction[]> {
    const config = gatewayConfig(sim, credentials, 'postgres://unused/db');
    const client = createGatewayClient(provider, config, {
      log: silentLogger(),
      sleep: noSleep,
      fetch: fetchFn,
    });
    const out: GatewayTransaction[] = [];
    for await (const page of client.pull(day)) out.push(...page.records);
    return out;
  }

  it('PayUnity: the text of each record, repeats dropped', async () => {
    const records = await pull('payunity');
    const texts = arrayElementTexts(oppwa, 'records')!;
    expect(records.map((r) => r.rawText)).toEqual([texts[0], texts[1]]);
    expect(records[0]!.rawText).toContain('"amount" : "10.50"');
    expect(records[0]!.raw).toEqual(JSON.parse(texts[0]!));
    expect(records.map((r) => r.amountMinor)).toEqual([1050, -100]);
  });

  it('UseePay: the text of each item, from `data` as from `items`', async () => {
    const records = await pull('useepay');
    expect(records).toHaveLength(1);
    expect(records[0]!.rawText).toBe(arrayElementTexts(useepay('payment_intents'), 'data')![0]);
    expect(records[0]!.rawText).toContain('"amount": 20.10');
    expect(records[0]!.amountMinor).toBe(2010);
  });
});

describe('a lookup by id keeps the answer as the gateway wrote it', () => {
  const oppwaById = `{
  "id" : "8ac7a4a0000000000000000000000009", "paymentType" : "DB", "amount" : "7.50", "currency" : "EUR",
  "result" : { "code" : "000.100.110", "description" : "Request successfully processed" },
  "timestamp" : "2026-11-02 10:00:00.000+0000", "buildNumber" : "b", "ndc" : "n"
}
`;
  const intent = `{ "id": "1012411211459019149", "merchant_order_id": "UO-9", "amount": 20.10, "currency": "USD",
  "status": "succeeded", "create_at": "2026-11-02T07:14:09Z" }`;
  const refund = `{ "id": "2012411211459019149", "payment_intent_id": "1012411211459019149", "amount": 5.00,
  "currency": "USD", "status": "succeeded", "create_at": "2026-11-03T07:14:09Z" }`;

  function client(provider: 'payunity' | 'useepay', wrapped = false): GatewayClient {
    const fetchFn = ((url: string) => {
      const path = new URL(url).pathname;
      const found =
        path === '/v1/query/8ac7a4a0000000000000000000000009'
          ? oppwaById
          : path === '/api/v1/payment_intents/1012411211459019149'
            ? intent
            : path === '/api/v1/refunds/2012411211459019149'
              ? refund
              : undefined;
      const body =
        found === undefined ? '{"code":"resource_not_found"}' : wrapped ? `{"data": ${found}}` : found;
      return Promise.resolve(
        new Response(body, {
          status: found === undefined ? 404 : 200,
          headers: { 'content-type': 'application/json' },
        }),
      );
    }) as typeof fetch;
    const config = gatewayConfig(
      { payunityUrl: 'http://payunity.invalid', useepayUrl: 'http://useepay.invalid' },
      {
        payunity: { entityId: 'e', accessToken: 't' },
        useepay: { merchantNo: '1', appId: 'a', apiKey: 'k' },
      },
      'postgres://unused/db',
    );
    return createGatewayClient(provider, config, { log: silentLogger(), sleep: noSleep, fetch: fetchFn });
  }

  it('PayUnity: the whole answer, envelope included, as sent', async () => {
    const [t] = await client('payunity').lookup('8ac7a4a0000000000000000000000009');
    expect(rawJson(t!)).toBe(oppwaById.trim());
    expect(t!.amountMinor).toBe(750);
  });

  it('UseePay: the refund and the payment intent it names, each as sent', async () => {
    const found = await client('useepay').lookup('2012411211459019149');
    expect(found.map((t) => rawJson(t))).toEqual([refund, intent]);
    expect(found.map((t) => t.amountMinor)).toEqual([-500, 2010]);
  });

  it('UseePay: an object wrapped in `data` is serialised again, not stored with its wrapper', async () => {
    const [t] = await client('useepay', true).lookup('1012411211459019149');
    expect(rawJson(t!)).toBe(JSON.stringify(JSON.parse(intent)));
  });
});
