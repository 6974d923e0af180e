// Both clients against the simulators over real HTTP: pagination, auth failures, lookups, refunds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createGatewayClient } from '../../src/gateways/index.js';
import type { GatewayClient, GatewayTransaction, PullWindow } from '../../src/gateways/types.js';
import { RefundUnknownError } from '../../src/gateways/types.js';
import { buildSampleData } from '../../src/sandbox/server/sample-data.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { GatewayError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import { gatewayConfig, noSleep } from './helpers.js';

const NOW = new Date('2026-11-05T10:00:00Z');
const DAY1: PullWindow = { from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') };
const TODAY: PullWindow = { from: new Date('2026-11-05T00:00:00Z'), to: new Date('2026-11-06T00:00:00Z') };
const MONEY = new Set(['DB', 'PA', 'CP', 'RF', 'RV', 'CB', 'CR', 'RB', 'RC']);

let sim: SandboxServers;
let config: Config;
const data = buildSampleData({
  from: '2026-11-01',
  days: 3,
  payunityPerDay: 400,
  useepayPerDay: 300,
  seed: 7,
});

function client(p: 'payunity' | 'useepay', cfg = config, fetchFn?: typeof fetch): GatewayClient {
  return createGatewayClient(p, cfg, { log: silentLogger(), sleep: noSleep, fetch: fetchFn });
}

async function pullAll(
  c: GatewayClient,
  w: PullWindow,
): Promise<{ pages: number; txns: GatewayTransaction[]; endpoints: Set<string> }> {
  const txns: GatewayTransaction[] = [];
  const endpoints = new Set<string>();
  let pages = 0;
  for await (const p of c.pull(w)) {
    pages++;
    endpoints.add(p.endpoint);
    txns.push(...p.records);
  }
  return { pages, txns, endpoints };
}

const inDay = (ms: number) => ms >= DAY1.from.getTime() && ms < DAY1.to.getTime();
const oppwaMs = (ts: unknown) => Date.parse(String(ts).replace(' ', 'T').replace('+0000', 'Z'));

beforeAll(async () => {
  sim = await startSandboxServers(data, { now: () => NOW });
  config = gatewayConfig(sim, data.credentials, 'postgres://unused/db', {
    timeoutSeconds: 2,
    retries: 2,
    concurrency: 4,
  });
});
afterAll(async () => {
  await sim?.close();
});

describe('PayUnity client', () => {
  it('pulls a day through every /v3/query page, money types only, exactly', async () => {
    const expected = data.payunity.filter(
      (r) => MONEY.has(String(r.paymentType)) && inDay(oppwaMs(r.timestamp)),
    );
    expect(expected.length).toBeGreaterThan(300); // several pages of 100
    const { pages, txns, endpoints } = await pullAll(client('payunity'), DAY1);
    expect(pages).toBe(Math.ceil(expected.length / 100));
    expect([...endpoints]).toEqual(['v3/query']);
    expect(txns.map((t) => t.transactionId).sort()).toEqual(expected.map((r) => String(r.id)).sort());
    for (const t of txns) {
      const r = expected.find((x) => x.id === t.transactionId)!;
      if (typeof r.amount === 'string')
        expect(Math.abs(t.amountMinor!)).toBe(
          Number(String(r.amount).replace('.', '')) / (t.currency === 'JPY' ? 100 : 1),
        );
    }
  });

  it('a wrong access token is one GatewayError naming the provider, not retried', async () => {
    let calls = 0;
    const counting: typeof fetch = (i, init) => {
      calls++;
      return fetch(i, init);
    };
    const bad = {
      ...config,
      providers: { ...config.providers, payunity: { ...config.providers.payunity!, accessToken: 'wrong' } },
    };
    const err = await pullAll(client('payunity', bad, counting), DAY1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toMatch(
      /^payunity refused our credentials \(HTTP 401\): check providers\.payunity\.accessToken/,
    );
    expect((err as Error).message).not.toContain('wrong');
    expect(calls).toBe(1);
  });

  it('"cannot find transaction" on a later page is records lost, not an empty tail', async () => {
    const page2Gone: typeof fetch = (i, init) =>
      String(i instanceof Request ? i.url : i).includes('pageNo=2')
        ? Promise.resolve(
            new Response('{"result":{"code":"700.400.580","description":"cannot find transaction"}}', {
              status: 400,
            }),
          )
        : fetch(i, init);
    const err = await pullAll(client('payunity', config, page2Gone), DAY1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toMatch(/page 2 of the window from 2026-11-02T00:00:00\.000Z/);
    // The same answer on the first page is an empty window.
    const empty: PullWindow = {
      from: new Date('2020-01-01T00:00:00Z'),
      to: new Date('2020-01-02T00:00:00Z'),
    };
    expect((await pullAll(client('payunity'), empty)).txns).toEqual([]);
  });

  it('stops, naming the page, when the paging does not advance instead of reading for ever', async () => {
    let requests = 0;
    const record = data.payunity.find((r) => r.paymentType === 'DB')!;
    const stuck: typeof fetch = () => {
      requests++;
      const body = { result: { code: '000.000.100' }, pages: 1_000_000_000, records: [record] };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    };
    const err = await pullAll(client('payunity', config, stuck), DAY1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toMatch(
      /^payunity: 10 pages in a row \(\/v3\/query up to page 11 of 1000000000 of the day from 2026-11-02T00:00:00\.000Z\) held only records already received/,
    );
    expect(requests).toBeLessThan(20); // the pages fetched ahead, no more
  });

  it('looks up by id (unknown -> []), and brings the payment a chargeback references', async () => {
    const c = client('payunity');
    const db = data.payunity.find((r) => r.paymentType === 'DB')!;
    const [one, ...rest] = await c.lookup(String(db.id));
    expect(rest).toEqual([]);
    expect(one!.transactionId).toBe(db.id);
    expect(one!.transactionTime.toISOString()).toBe(new Date(oppwaMs(db.timestamp)).toISOString());
    expect(await c.lookup('0'.repeat(32))).toEqual([]);
    const cb = data.payunity.find((r) => r.paymentType === 'CB')!;
    const found = await c.lookup(String(cb.id));
    expect(found.map((t) => t.gatewayType)).toEqual(['CB', 'DB']);
    expect(found[1]!.transactionId).toBe(cb.referencedId);
  });

  it('refunds by form POST; the key finds it; over-refund is declined; a later pull sees the RF', async () => {
    const c = client('payunity');
    const db = data.payunity.find(
      (r) =>
        r.paymentType === 'DB' &&
        r.currency === 'EUR' &&
        (r.result as { code: string }).code === '000.100.110' &&
        !data.payunity.some((x) => x.referencedId === r.id),
    )!;
    const minor = Number(String(db.amount).replace('.', ''));
    expect(await c.findRefund({ paymentId: String(db.id), idempotencyKey: 'key-pu-1' })).toBeUndefined();
    const ok = await c.createRefund({
      paymentId: String(db.id),
      amountMinor: minor - 1,
      currency: 'EUR',
      idempotencyKey: 'key-pu-1',
      reason: 'test',
    });
    expect(ok.state).toBe('succeeded');
    const again = await c.findRefund({ paymentId: String(db.id), idempotencyKey: 'key-pu-1' });
    expect(again).toMatchObject({
      state: 'succeeded',
      refundId: ok.state === 'succeeded' ? ok.refundId : '',
    });
    const over = await c.createRefund({
      paymentId: String(db.id),
      amountMinor: 2,
      currency: 'EUR',
      idempotencyKey: 'key-pu-2',
      reason: 'test',
    });
    expect(over).toMatchObject({ state: 'failed', code: '700.400.200' });
    const { txns } = await pullAll(c, TODAY);
    const rf = txns.filter((t) => t.gatewayType === 'RF');
    expect(rf).toHaveLength(1);
    expect(rf[0]).toMatchObject({
      referencedId: db.id,
      amountMinor: -(minor - 1),
      merchantReference: 'key-pu-1',
      status: 'succeeded',
    });
  });

  it('a refund applied but never answered is RefundUnknownError, and findRefund then finds it', async () => {
    const fast = gatewayConfig(sim, data.credentials, 'postgres://unused/db', {
      timeoutSeconds: 0.5,
      retries: 2,
    });
    const c = client('payunity', fast);
    const db = data.payunity.filter(
      (r) =>
        r.paymentType === 'DB' &&
        r.currency === 'USD' &&
        (r.result as { code: string }).code === '000.100.110',
    )[3]!;
    for (const [fault, key] of [
      ['refundTimeoutAfterApply', 'key-pu-t'],
      ['refundDropAfterApply', 'key-pu-d'],
    ] as const) {
      sim.setFaults({ [fault]: 1 });
      const err = await c
        .createRefund({
          paymentId: String(db.id),
          amountMinor: 1,
          currency: 'USD',
          idempotencyKey: key,
          reason: 'test',
        })
        .catch((e: unknown) => e);
      expect(err, fault).toBeInstanceOf(RefundUnknownError);
      expect(await c.findRefund({ paymentId: String(db.id), idempotencyKey: key })).toMatchObject({
        state: 'succeeded',
      });
    }
    sim.setFaults({});
  });

  it('findRefund finds our refund by its key whatever payment the gateway says it references', async () => {
    // A refund sent to a captured PA may come back referencing the CP (gateways.md): rewrite the lookup's answer so.
    const rewriting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).includes('/v1/query')) return res;
      const body = (await res.json()) as { payments?: Record<string, unknown>[] };
      for (const p of body.payments ?? []) p.referencedId = 'the-capture-id';
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    };
    const c = client('payunity', config, rewriting);
    const db = data.payunity.filter(
      (r) =>
        r.paymentType === 'DB' &&
        r.currency === 'EUR' &&
        (r.result as { code: string }).code === '000.100.110' &&
        !data.payunity.some((x) => x.referencedId === r.id),
    )[5]!;
    const sent = await c.createRefund({
      paymentId: String(db.id),
      amountMinor: 1,
      currency: 'EUR',
      idempotencyKey: 'key-pu-cp',
      reason: 'test',
    });
    expect(sent.state).toBe('succeeded');
    expect(await c.findRefund({ paymentId: String(db.id), idempotencyKey: 'key-pu-cp' })).toMatchObject({
      state: 'succeeded',
      refundId: sent.state === 'succeeded' ? sent.refundId : '',
    });
  });

  it('a refund answer without a result code or refund id is unknown, never failed', async () => {
    for (const answer of ['', '{}', '{"result":{"code":"000.100.110"}}', '{"id":"x","result":{}}']) {
      const canned: typeof fetch = () =>
        Promise.resolve(
          new Response(answer, { status: 200, headers: { 'content-type': 'application/json' } }),
        );
      const err = await client('payunity', config, canned)
        .createRefund({ paymentId: 'p', amountMinor: 1, currency: 'EUR', idempotencyKey: 'k', reason: 'r' })
        .catch((e: unknown) => e);
      expect(err, answer).toBeInstanceOf(RefundUnknownError);
    }
  });

  it('the simulator refuses JSON bodies and parameters in the URL, as OPPWA does', async () => {
    const db = data.payunity.find((r) => r.paymentType === 'DB')!;
    const auth = { authorization: `Bearer ${data.credentials.payunity.accessToken}` };
    const json = await fetch(`${sim.payunityUrl}/v1/payments/${String(db.id)}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        entityId: data.credentials.payunity.entityId,
        amount: '1.00',
        currency: db.currency,
        paymentType: 'RF',
      }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { result: { code: string } }).result.code).toBe('200.300.404');
    const inUrl = await fetch(
      `${sim.payunityUrl}/v1/payments/${String(db.id)}?entityId=${data.credentials.payunity.entityId}&amount=1.00&paymentType=RF`,
      { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
    );
    expect(inUrl.status).toBe(400);
  });
});

describe('UseePay client', () => {
  it('pulls intents and refunds of a day with page_num/page_size/has_more, amounts exact', async () => {
    const createdMs = (o: Record<string, unknown>) => Date.parse(String(o.create_at));
    const intents = data.useepay.intents.filter((o) => inDay(createdMs(o)));
    const refunds = data.useepay.refunds.filter((o) => inDay(createdMs(o)));
    expect(intents.length).toBeGreaterThan(200);
    const { txns, endpoints } = await pullAll(client('useepay'), DAY1);
    expect([...endpoints].sort()).toEqual(['payment_intents', 'refunds']);
    const got = txns.filter((t) => t.gatewayType === 'payment_intent');
    expect(got.map((t) => t.transactionId).sort()).toEqual(intents.map((o) => String(o.id)).sort());
    expect(
      txns
        .filter((t) => t.gatewayType === 'refund')
        .map((t) => t.transactionId)
        .sort(),
    ).toEqual(refunds.map((o) => String(o.id)).sort());
    for (const t of got) {
      const o = intents.find((x) => x.id === t.transactionId)!;
      expect(t.amountMinor).toBe(Math.round(Number(o.captured_amount ?? o.amount) * 100));
    }
  });

  it('stops, naming the page, when has_more never ends and no page brings anything new', async () => {
    let requests = 0;
    const stuck: typeof fetch = () => {
      requests++;
      const body = { items: [data.useepay.intents[0]], has_more: true };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    };
    const err = await pullAll(client('useepay', config, stuck), DAY1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toMatch(
      /^useepay: 10 pages in a row \(payment_intents up to page_num 10 of the day from 2026-11-02T00:00:00\.000Z\) held only records already received/,
    );
    expect(requests).toBeLessThan(20);
  });

  it('accepts lists wrapped in `data` as well as `items`', async () => {
    const other = await startSandboxServers(data, { useepay: { listKey: 'data' } });
    try {
      const cfg = gatewayConfig(other, data.credentials, 'postgres://unused/db');
      const { txns } = await pullAll(client('useepay', cfg), DAY1);
      expect(txns.length).toBe(
        data.useepay.intents.filter((o) => inDay(Date.parse(String(o.create_at)))).length +
          data.useepay.refunds.filter((o) => inDay(Date.parse(String(o.create_at)))).length,
      );
    } finally {
      await other.close();
    }
  });

  it('a wrong API key is one GatewayError naming the provider', async () => {
    const bad = {
      ...config,
      providers: {
        ...config.providers,
        useepay: { ...config.providers.useepay!, apiKey: 'UseePay_SK_wrong' },
      },
    };
    const err = await client('useepay', bad)
      .lookup('1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toMatch(
      /^useepay refused our credentials \(HTTP 401\): check providers\.useepay\.apiKey/,
    );
  });

  it('looks up intents and refunds (a refund brings its intent); unknown -> []', async () => {
    const c = client('useepay');
    const intent = data.useepay.intents[0]!;
    expect((await c.lookup(String(intent.id))).map((t) => t.transactionId)).toEqual([intent.id]);
    const refund = data.useepay.refunds[0]!;
    expect((await c.lookup(String(refund.id))).map((t) => [t.gatewayType, t.transactionId])).toEqual([
      ['refund', refund.id],
      ['payment_intent', refund.payment_intent_id],
    ]);
    expect(await c.lookup('404404404')).toEqual([]);
  });

  it('a refund answer is failed only when refused (4xx); 202 with the refund is read, the unclear is unknown', async () => {
    const answering =
      (status: number, body: string): typeof fetch =>
      () =>
        Promise.resolve(new Response(body, { status, headers: { 'content-type': 'application/json' } }));
    const req = { paymentId: 'p', amountMinor: 649, currency: 'USD', idempotencyKey: 'k', reason: 'r' };
    const refund = JSON.stringify({ id: 'rf_1', status: 'succeeded', amount: 6.49, currency: 'USD' });
    expect(await client('useepay', config, answering(202, refund)).createRefund(req)).toMatchObject({
      state: 'succeeded',
      refundId: 'rf_1',
    });
    expect(
      await client(
        'useepay',
        config,
        answering(400, '{"code":"invalid_argument","message":"no"}'),
      ).createRefund(req),
    ).toMatchObject({ state: 'failed', code: 'invalid_argument' });
    for (const [status, body] of [
      [200, '{}'],
      [200, '{"id":"rf_2"}'],
      [204, ''],
      [302, ''],
      [408, ''],
    ] as const) {
      const err = await client('useepay', config, answering(status, body))
        .createRefund(req)
        .catch((e: unknown) => e);
      expect(err, `${status} ${body}`).toBeInstanceOf(RefundUnknownError);
    }
  });

  it('refunds with the key in metadata; findRefund lists the intent refunds; over-refund fails; a pull sees it', async () => {
    const c = client('useepay');
    const intent = data.useepay.intents.find(
      (o) =>
        o.status === 'succeeded' &&
        o.currency === 'USD' &&
        !data.useepay.refunds.some((r) => r.payment_intent_id === o.id),
    )!;
    const minor = Math.round(Number(intent.amount) * 100);
    const ok = await c.createRefund({
      paymentId: String(intent.id),
      amountMinor: minor - 5,
      currency: 'USD',
      idempotencyKey: 'key-ue-1',
      reason: 'dup',
    });
    expect(ok.state).toBe('succeeded');
    expect(await c.findRefund({ paymentId: String(intent.id), idempotencyKey: 'key-ue-1' })).toMatchObject({
      state: 'succeeded',
    });
    expect(
      await c.findRefund({ paymentId: String(intent.id), idempotencyKey: 'key-ue-none' }),
    ).toBeUndefined();
    expect(
      await c.createRefund({
        paymentId: String(intent.id),
        amountMinor: 6,
        currency: 'USD',
        idempotencyKey: 'key-ue-2',
        reason: 'dup',
      }),
    ).toMatchObject({ state: 'failed', code: 'invalid_argument' });
    const { txns } = await pullAll(c, TODAY);
    expect(txns.filter((t) => t.gatewayType === 'refund')).toMatchObject([
      { referencedId: intent.id, rootPaymentId: intent.id, amountMinor: -(minor - 5) },
    ]);

    sim.setFaults({ refundTimeoutAfterApply: 1 });
    const fast = gatewayConfig(sim, data.credentials, 'postgres://unused/db', { timeoutSeconds: 0.5 });
    const err = await client('useepay', fast)
      .createRefund({
        paymentId: String(intent.id),
        amountMinor: 5,
        currency: 'USD',
        idempotencyKey: 'key-ue-3',
        reason: 'dup',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefundUnknownError);
    expect(await c.findRefund({ paymentId: String(intent.id), idempotencyKey: 'key-ue-3' })).toMatchObject({
      state: 'succeeded',
    });
    sim.setFaults({});
  });
});
