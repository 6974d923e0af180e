// The HTTP layer's retry rules, with an injected fetch and sleep: Retry-After honoured, reads retried on what is
// transient, a refund POST never retried.
import { describe, expect, it, vi } from 'vitest';
import { oneLine } from '../../src/cli/exit-codes.js';
import { HttpClient, RATE_LIMITED_WAIT_MS, parseRetryAfter } from '../../src/gateways/http.js';
import { RefundUnknownError } from '../../src/gateways/types.js';
import { GatewayError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';

type Step = Response | Error;

function scripted(steps: Step[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    calls.push({ url: input as string, init });
    const s = steps.shift();
    if (!s) throw new Error('no more scripted responses');
    return s instanceof Error ? Promise.reject(s) : Promise.resolve(s);
  };
  return { fetchFn, calls };
}

function http(steps: Step[], retries = 3) {
  const s = scripted(steps);
  const sleeps: number[] = [];
  let clock = 1_000_000; // moved by the sleeps, as time is
  const c = new HttpClient(
    {
      provider: 'payunity',
      baseUrl: 'http://gw.test/',
      timeoutMs: 1000,
      retries,
      concurrency: 2,
      headers: { authorization: 'Bearer SECRET' },
      credentialHint: 'the token',
    },
    {
      log: silentLogger(),
      fetch: s.fetchFn,
      sleep: (ms) => (sleeps.push(ms), (clock += ms), Promise.resolve()),
      random: () => 0.5,
      now: () => clock,
    },
  );
  return { c, sleeps, calls: s.calls };
}

const ok = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
const reset = () =>
  Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  });

describe('HttpClient', () => {
  it('honours Retry-After on 429 and retries 5xx, resets and malformed JSON on reads', async () => {
    const { c, sleeps, calls } = http(
      [
        new Response('{}', { status: 429, headers: { 'retry-after': '7' } }),
        new Response('oops', { status: 503 }),
        reset(),
        new Response('{"records":[', { status: 200 }),
        ok({ fine: true }),
      ],
      5,
    );
    const res = await c.getJson('v3/query', { pageNo: 1, entityId: 'E' });
    expect(res).toEqual({ status: 200, body: { fine: true }, text: '{"fine":true}' });
    expect(calls).toHaveLength(5);
    expect(calls[0]!.url).toBe('http://gw.test/v3/query?pageNo=1&entityId=E');
    expect(sleeps[0]).toBe(7000);
    // Exponential backoff with jitter (random pinned at 0.5 -> 75 % of the step).
    expect(sleeps.slice(1)).toEqual([375, 750, 1500]);
  });

  it('a 429 without Retry-After waits as a gateway client does, not a quick backoff step', async () => {
    const { c, sleeps } = http([new Response('{}', { status: 429 }), ok({ fine: true })]);
    await c.getJson('v3/query', { pageNo: 2 });
    expect(sleeps).toEqual([RATE_LIMITED_WAIT_MS]);
    expect(RATE_LIMITED_WAIT_MS).toBe(30_000);
  });

  it('holds every request back while the gateway asks for a pause, not only the one it answered', async () => {
    const s = scripted([
      new Response('{}', { status: 429, headers: { 'retry-after': '7' } }),
      ok({ a: 1 }),
      ok({ b: 1 }),
      new Response('{}', { status: 429, headers: { 'retry-after': '2' } }),
      ok({ c: 1 }),
    ]);
    let clock = 1_000_000;
    const sleeps: number[] = [];
    const wakes: (() => void)[] = [];
    const c = new HttpClient(
      {
        provider: 'useepay',
        baseUrl: 'http://gw.test/',
        timeoutMs: 1000,
        retries: 3,
        concurrency: 2,
        headers: {},
        credentialHint: 'the key',
      },
      {
        log: silentLogger(),
        fetch: s.fetchFn,
        sleep: (ms) => (sleeps.push(ms), new Promise<void>((r) => wakes.push(r))),
        random: () => 0.5,
        now: () => clock,
      },
    );
    const a = c.getJson('a', {});
    await vi.waitFor(() => expect(sleeps).toEqual([7000])); // a's retry waits out the 429
    const b = c.getJson('b', {});
    await vi.waitFor(() => expect(sleeps).toEqual([7000, 7000])); // and b, sent after it, waits too
    expect(s.calls).toHaveLength(1);
    clock += 7000;
    for (const wake of wakes.splice(0)) wake();
    await Promise.all([a, b]);
    expect(s.calls.map((x) => new URL(x.url).pathname).sort()).toEqual(['/a', '/a', '/b']);

    // A refused POST is not retried, but the request after it waits as well.
    await expect(c.postOnce('refunds', '{}', 'application/json')).rejects.toThrow(/HTTP 429/);
    const d = c.getJson('d', {});
    await vi.waitFor(() => expect(sleeps).toEqual([7000, 7000, 2000]));
    clock += 2000;
    for (const wake of wakes.splice(0)) wake();
    await expect(d).resolves.toMatchObject({ body: { c: 1 } });
  });

  it('gives up after the configured retries with a GatewayError naming the provider', async () => {
    const { c, calls } = http([new Response('', { status: 500 }), new Response('', { status: 500 })], 1);
    await expect(c.getJson('x', {})).rejects.toThrow(/^payunity API failed after 2 attempts: HTTP 500/);
    expect(calls).toHaveLength(2);
  });

  it('an unreachable gateway is one line: the address once, and what to check', async () => {
    const refused = () =>
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      });
    const { c } = http([refused(), refused()], 1);
    const e = await c.getJson('x', {}).catch((x: unknown) => x);
    expect(oneLine(e)).toBe(
      'payunity API failed after 2 attempts: cannot connect (connect ECONNREFUSED 127.0.0.1:1); check providers.payunity.baseUrl, and that this machine can reach it',
    );
  });

  it('returns 4xx answers to the caller, turns 401 into a one-line credentials error', async () => {
    const { c } = http([
      new Response('{"result":{"code":"700.400.580"}}', { status: 400 }),
      new Response('{"result":{"code":"800.900.300"}}', { status: 401 }),
    ]);
    expect(await c.getJson('v1/query/x', {})).toEqual({
      status: 400,
      body: { result: { code: '700.400.580' } },
      text: '{"result":{"code":"700.400.580"}}',
    });
    const e = await c.getJson('v1/query/x', {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 401, code: '800.900.300', provider: 'payunity' });
    expect((e as Error).message).not.toContain('SECRET');
  });

  it('never retries a POST: 5xx, a reset or a malformed answer after sending is RefundUnknownError', async () => {
    for (const step of [
      new Response('', { status: 502 }),
      reset(),
      new Response('{"id":', { status: 200 }),
    ]) {
      const { c, calls } = http([step, ok({})]);
      await expect(
        c.postOnce('v1/payments/abc', 'a=1', 'application/x-www-form-urlencoded'),
      ).rejects.toBeInstanceOf(RefundUnknownError);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.init?.body).toBe('a=1');
    }
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const { c } = http([refused]);
    await expect(
      c.postOnce('v1/payments/abc', 'a=1', 'application/x-www-form-urlencoded'),
    ).rejects.toBeInstanceOf(GatewayError);
  });

  it('times out a hung read and retries it', async () => {
    let n = 0;
    const hang: typeof fetch = (_i, init) => {
      n++;
      if (n === 2) return Promise.resolve(ok({ late: false }));
      return new Promise((_r, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)),
      );
    };
    const c = new HttpClient(
      {
        provider: 'useepay',
        baseUrl: 'http://gw.test',
        timeoutMs: 50,
        retries: 2,
        concurrency: 1,
        headers: {},
        credentialHint: '',
      },
      { log: silentLogger(), fetch: hang, sleep: () => Promise.resolve() },
    );
    expect((await c.getJson('a', {})).body).toEqual({ late: false });
    expect(n).toBe(2);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let active = 0;
    let max = 0;
    const slow: typeof fetch = async () => {
      active++;
      max = Math.max(max, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return ok({});
    };
    const c = new HttpClient(
      {
        provider: 'useepay',
        baseUrl: 'http://gw.test',
        timeoutMs: 1000,
        retries: 0,
        concurrency: 3,
        headers: {},
        credentialHint: '',
      },
      { log: silentLogger(), fetch: slow },
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.getJson('p', { i })));
    expect(max).toBe(3);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
