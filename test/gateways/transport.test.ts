// The default transport against a real local HTTP server: what fetch did for us (decoding, headers, a body cut
// short, aborts) still holds, reads share kept connections, and a POST never goes out on one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/gateways/http.js';
import { RefundUnknownError } from '../../src/gateways/types.js';
import { GatewayError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import {
  AnswerTooLargeError,
  MAX_ANSWER_BYTES,
  nodeTransport,
  type TransportRequest,
} from '../../src/gateways/transport.js';

let server: http.Server;
const bomb = zlib.gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20), { level: 9 });
let base: string;
/** The client port of each request, by path: which connection it came on. */
const seen: { path: string; port: number; method: string; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', port: req.socket.remotePort ?? 0, method: req.method ?? '', body });
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(JSON.stringify({ ok: 'gzipped' })));
      } else if (req.url === '/busy') {
        res.writeHead(429, { 'retry-after': '7' });
        res.end();
      } else if (req.url === '/cut') {
        // Promises 100 bytes, sends 10, and hangs up.
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial"');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (req.url === '/endless') {
        // An answer that never ends: 1 MB chunks, for as long as the client reads.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        more();
      } else if (req.url === '/bomb') {
        // 200 MB of spaces, gzipped to a few hundred KB.
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(bomb);
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url, method: req.method, body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (signal = AbortSignal.timeout(5000)): TransportRequest => ({
  method: 'GET',
  headers: { accept: 'application/json' },
  signal,
  reuse: true,
});

describe('nodeTransport', () => {
  it('returns status, headers and body, and decodes a gzip answer', async () => {
    const plain = await nodeTransport(`${base}/plain?x=1`, get());
    expect(plain.status).toBe(200);
    expect(plain.header('Content-Type')).toBe('application/json');
    expect(plain.header('x-absent')).toBeNull();
    expect(JSON.parse(plain.text)).toEqual({ path: '/plain?x=1', method: 'GET', body: '' });

    const gz = await nodeTransport(`${base}/gzip`, get());
    expect(JSON.parse(gz.text)).toEqual({ ok: 'gzipped' });

    const busy = await nodeTransport(`${base}/busy`, get());
    expect(busy.status).toBe(429);
    expect(busy.header('retry-after')).toBe('7');
  });

  it('sends reads one after another on one kept connection, and every POST on a fresh one', async () => {
    seen.length = 0;
    for (let i = 0; i < 3; i++) await nodeTransport(`${base}/read${i}`, get());
    for (let i = 0; i < 2; i++) {
      const r = await nodeTransport(`${base}/write${i}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"amount":"1.00","note":"é"}',
        signal: AbortSignal.timeout(5000),
        reuse: false,
      });
      expect(JSON.parse(r.text)).toMatchObject({ method: 'POST', body: '{"amount":"1.00","note":"é"}' });
    }
    const readPorts = new Set(seen.filter((s) => s.path.startsWith('/read')).map((s) => s.port));
    const writePorts = seen.filter((s) => s.path.startsWith('/write')).map((s) => s.port);
    expect(readPorts.size).toBe(1);
    expect(new Set(writePorts).size).toBe(2);
    for (const p of writePorts) expect(readPorts.has(p)).toBe(false);
  });

  it('rejects a body cut short instead of returning part of it', async () => {
    await expect(nodeTransport(`${base}/cut`, get())).rejects.toThrow();
  });

  it('stops reading an answer past MAX_ANSWER_BYTES, compressed or not, and says so', async () => {
    for (const path of ['/endless', '/bomb']) {
      const err = await nodeTransport(`${base}${path}`, get(AbortSignal.timeout(20_000))).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AnswerTooLargeError);
      expect((err as Error).message).toBe(
        `answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB: not read`,
      );
    }
  });

  it('through the client: a read is not retried, a refund POST is unknown (it may have been applied)', async () => {
    const sleeps: number[] = [];
    const c = new HttpClient(
      {
        provider: 'useepay',
        baseUrl: base,
        timeoutMs: 20_000,
        retries: 3,
        concurrency: 1,
        headers: {},
        credentialHint: 'the key',
      },
      { log: silentLogger(), sleep: (ms) => (sleeps.push(ms), Promise.resolve()) },
    );
    const before = seen.filter((r) => r.path === '/endless').length;
    const read = await c.getJson('endless', {}).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(GatewayError);
    expect((read as Error).message).toBe('useepay GET /endless: answer larger than 64 MB: not read');
    expect(seen.filter((r) => r.path === '/endless').length - before).toBe(1);
    expect(sleeps).toEqual([]);
    await expect(c.postOnce('endless', '{}', 'application/json')).rejects.toBeInstanceOf(RefundUnknownError);
  });

  it('rejects promptly when the signal aborts', async () => {
    const started = Date.now();
    const err: unknown = await nodeTransport(`${base}/slow`, get(AbortSignal.timeout(100))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reports a refused connection by its code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = (await nodeTransport(`http://127.0.0.1:${port}/`, get()).catch((e: unknown) => e)) as {
      code?: string;
    };
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('refuses a scheme other than http and https', async () => {
    await expect(nodeTransport('ftp://example.invalid/x', get())).rejects.toThrow(/unsupported URL scheme/);
  });
});
