// How the HTTP layer sends one request: node:http(s) on keep-alive connections by default, or an injected `fetch`
// (tests). A pull is about ten thousand small pages a month; through the global fetch each one paid for WHATWG
// Request, Headers, Response and a web body stream, which measured about 450 µs of CPU per page (5 µs per record,
// a third of the client's work), against 100 µs here.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

export interface TransportRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /**
   * Whether the request may go out on a connection kept from an earlier one. A kept connection can be closed by
   * the server just as we write to it, and then we cannot tell whether the request arrived: a write that must not
   * be doubted (a refund) asks for a fresh connection.
   */
  reuse: boolean;
}

export interface TransportAnswer {
  status: number;
  /** A response header, by lower-case name; null when absent. */
  header(name: string): string | null;
  /** The whole body, decoded as UTF-8. */
  text: string;
}

export type Transport = (url: string, req: TransportRequest) => Promise<TransportAnswer>;

export type FetchFn = typeof fetch;

/** A Transport over a fetch function (what tests inject). */
export function fetchTransport(fetchFn: FetchFn): Transport {
  return async (url, req) => {
    const res = await fetchFn(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
    const text = await res.text();
    return { status: res.status, header: (name) => res.headers.get(name), text };
  };
}

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/** The default Transport: node:http(s), gzip/deflate/br answers decoded as fetch would. */
export const nodeTransport: Transport = (url, req) => {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:')
    return Promise.reject(new TypeError(`unsupported URL scheme in ${url}`));
  const send = secure ? https.request : http.request;
  const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise<TransportAnswer>((resolve, reject) => {
    const outgoing = send(
      u,
      {
        method: req.method,
        headers,
        signal: req.signal,
        agent: req.reuse ? (secure ? agents.https : agents.http) : false,
      },
      (res) => {
        readBody(res, res.headers['content-encoding']).then((text) => {
          const h = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = h[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
            text,
          });
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
};

/**
 * The most an answer may hold, decoded. A page of a hundred records is about 100 KB and a lookup less: an answer
 * past this is not one the gateways send, and reading it whole (or a compressed one that inflates without end)
 * would only exhaust memory.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** An answer larger than MAX_ANSWER_BYTES: not read further, and not worth asking for again. */
export class AnswerTooLargeError extends Error {
  override name = 'AnswerTooLargeError';
}

/** The body as text; a connection that ends before the body does rejects (as fetch's text() would). */
async function readBody(res: http.IncomingMessage, encoding: string | undefined): Promise<string> {
  const decoded = decoder(encoding?.trim().toLowerCase());
  const stream: Readable = decoded ? res.pipe(decoded) : res;
  if (decoded) res.on('error', (e) => decoded.destroy(e));
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_ANSWER_BYTES) {
      res.destroy();
      throw new AnswerTooLargeError(`answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB: not read`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decoder(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}
