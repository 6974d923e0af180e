// The one HTTP layer both gateway clients use: timeouts, bounded concurrency, retries with backoff on reads,
// and the refund rule (a POST is sent once; if we cannot tell whether it arrived, say so instead of guessing).
import type { ProviderName } from '../config/schema.js';
import { causeChain, errorCode, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { RefundUnknownError } from './types.js';
import { Limiter } from '../shared/concurrent.js';
import {
  AnswerTooLargeError,
  fetchTransport,
  nodeTransport,
  type FetchFn,
  type Transport,
  type TransportAnswer,
} from './transport.js';

export type { FetchFn } from './transport.js';
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface HttpDeps {
  log: Logger;
  /** Sends requests through this fetch instead of node:http (tests). */
  fetch?: FetchFn;
  sleep?: SleepFn;
  /** Source of jitter, 0 <= r < 1 (tests pin it). */
  random?: () => number;
  /** Milliseconds since the epoch (tests pin it). */
  now?: () => number;
}

export interface HttpOptions {
  provider: ProviderName;
  baseUrl: string;
  timeoutMs: number;
  /** Retries of a read after the first attempt. */
  retries: number;
  /** Requests in flight at once, per client. */
  concurrency: number;
  /** Sent on every request (auth). Never logged. */
  headers: Record<string, string>;
  /** What a 401 tells the user to check, e.g. "providers.payunity.accessToken and entityId". */
  credentialHint: string;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  /** The body as received (decoded as UTF-8), which `body` was parsed from. */
  text: string;
}

const defaultSleep: SleepFn = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A failure worth another attempt of a read (429, 5xx, timeout, reset, malformed body). `kind` tells a POST that
 * must not be retried blindly whether the gateway surely did not act on it (rate-limited, unreachable).
 */
class Transient extends Error {
  constructor(
    readonly kind: 'rate-limited' | 'unreachable' | 'lost' | 'timeout' | 'server' | 'malformed',
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The wait after a 429 that gives no Retry-After (OPPWA's public client waits 30 s). */
export const RATE_LIMITED_WAIT_MS = 30_000;

/** Retry-After as seconds or an HTTP date; capped so a hostile value cannot park a run for hours. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.min(Number(s) * 1000, 300_000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), 300_000);
}

export class HttpClient {
  private readonly send: Transport;
  private readonly sleep: SleepFn;
  private readonly random: () => number;
  private readonly limiter: Limiter;
  private readonly log: Logger;
  private readonly now: () => number;
  /**
   * Until when the gateway asked us to wait (a 429, or a Retry-After): every request waits, not only the one it
   * answered; the others would spend their attempts on the same refusal and prolong the limit.
   */
  private pausedUntil = 0;

  constructor(
    readonly opts: HttpOptions,
    deps: HttpDeps,
  ) {
    this.send = deps.fetch ? fetchTransport(deps.fetch) : nodeTransport;
    this.sleep = deps.sleep ?? defaultSleep;
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.limiter = new Limiter(Math.max(1, opts.concurrency));
    this.log = deps.log.child({ provider: opts.provider });
  }

  url(path: string, query?: Record<string, string | number | undefined>): string {
    const u = new URL(path, this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : this.opts.baseUrl + '/');
    if (query)
      for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /**
   * A read, retried on transient failures. Returns 2xx and 4xx answers (other than 401 and 429) to the caller,
   * who knows what a 400 or 404 means for its gateway.
   */
  async getJson(
    path: string,
    query: Record<string, string | number | undefined>,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const url = this.url(path, query);
    const attempts = this.opts.retries + 1;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.limiter.run(async () => {
          await this.pause(signal);
          return this.once('GET', url, undefined, signal);
        });
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= attempts) {
          const hint =
            e.kind === 'unreachable'
              ? `; check providers.${this.opts.provider}.baseUrl, and that this machine can reach it`
              : '';
          throw new GatewayError(
            `${this.opts.provider} API failed after ${attempts} attempts: ${e.message}${hint}`,
            this.opts.provider,
            { cause: e },
          );
        }
        const backoff = Math.min(
          this.opts.maxDelayMs ?? 30_000,
          (this.opts.baseDelayMs ?? 250) * 2 ** (attempt - 1),
        );
        // Full jitter spreads retries of parallel requests; Retry-After, when given, is a floor. A 429 without
        // one waits as long as the gateways' own clients do: a quick retry only spends the next attempt.
        const floor = e.retryAfterMs ?? (e.kind === 'rate-limited' ? RATE_LIMITED_WAIT_MS : 0);
        if (floor > 0) this.pausedUntil = Math.max(this.pausedUntil, this.now() + floor);
        const delay = Math.max(floor, Math.round(backoff * (0.5 + this.random() / 2)));
        this.log.warn({ path, attempt, delayMs: delay, reason: e.message }, 'gateway read failed, retrying');
        await this.sleep(delay, signal);
      }
    }
  }

  /**
   * Sends a write exactly once. If it may have reached the gateway but we have no answer (timeout, dropped
   * connection, 5xx, unreadable body), throws RefundUnknownError: only a lookup can tell what happened.
   */
  async postOnce(
    path: string,
    body: string,
    contentType: string,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const url = this.url(path);
    return this.limiter.run(async () => {
      await this.pause(signal);
      try {
        return await this.once('POST', url, { body, contentType }, signal);
      } catch (e) {
        if (e instanceof GatewayError || signal?.aborted) throw e;
        if (e instanceof Transient && e.kind === 'rate-limited') {
          // Not retried (the caller decides), but the next request waits as a read's retry would.
          this.pausedUntil = Math.max(
            this.pausedUntil,
            this.now() + (e.retryAfterMs ?? RATE_LIMITED_WAIT_MS),
          );
          throw new GatewayError(
            `${this.opts.provider} rate-limited the request before processing it (HTTP 429)`,
            this.opts.provider,
            { cause: e, status: 429 },
          );
        }
        if (e instanceof Transient && e.kind === 'unreachable') {
          throw new GatewayError(`${this.opts.provider} API unreachable: ${e.message}`, this.opts.provider, {
            cause: e,
          });
        }
        throw new RefundUnknownError(
          `${this.opts.provider}: no usable answer to ${path} (${(e as Error).message}); the request may have been applied`,
          { cause: e },
        );
      }
    });
  }

  /** Waits out a pause the gateway asked for (see pausedUntil). */
  private async pause(signal?: AbortSignal): Promise<void> {
    const wait = this.pausedUntil - this.now();
    if (wait > 0) await this.sleep(wait, signal);
  }

  private async once(
    method: 'GET' | 'POST',
    url: string,
    post: { body: string; contentType: string } | undefined,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers };
    if (post) headers['content-type'] = post.contentType;
    let res: TransportAnswer;
    try {
      // A read may go out on a kept connection (a lost one is retried); a POST is sent on a fresh one.
      res = await this.send(url, { method, headers, body: post?.body, signal: combined, reuse: !post });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      // Not retried: the same request brings the same answer. (After a POST, what happened is unknown: below.)
      if (e instanceof AnswerTooLargeError && !post)
        throw new GatewayError(
          `${this.opts.provider} GET ${new URL(url).pathname}: ${e.message}`,
          this.opts.provider,
          { cause: e },
        );
      if (timeout.aborted)
        throw new Transient('timeout', `timeout after ${this.opts.timeoutMs} ms`, undefined, { cause: e });
      const code = errorCode(e);
      // Refused or unresolvable: nothing was sent. Anything else may have happened mid-request.
      const refused = code === 'ECONNREFUSED' || code === 'ENOTFOUND';
      // The system's own words name the address ("connect ECONNREFUSED 127.0.0.1:1"), once; the wrappers between
      // ("fetch failed") say nothing more.
      const root = causeChain(e).at(-1) ?? new Error(String(e));
      const said = root.message || code || 'no detail';
      throw new Transient(
        refused ? 'unreachable' : 'lost',
        refused ? `cannot connect (${said})` : `connection lost (${said})`,
        undefined,
        { cause: root },
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new GatewayError(
        `${this.opts.provider} refused our credentials (HTTP ${res.status}): check ${this.opts.credentialHint}`,
        this.opts.provider,
        { status: res.status, code: gatewayCode(res.text) },
      );
    }
    if (res.status === 429)
      throw new Transient(
        'rate-limited',
        'HTTP 429 too many requests',
        parseRetryAfter(res.header('retry-after')),
      );
    if (res.status >= 500)
      throw new Transient('server', `HTTP ${res.status}`, parseRetryAfter(res.header('retry-after')));
    let body: unknown;
    try {
      body = res.text.length === 0 ? undefined : JSON.parse(res.text);
    } catch (e) {
      throw new Transient('malformed', `HTTP ${res.status} with a body that is not JSON`, undefined, {
        cause: e,
      });
    }
    return { status: res.status, body, text: res.text };
  }
}

function gatewayCode(text: string): string | undefined {
  try {
    const b = JSON.parse(text) as { result?: { code?: unknown }; code?: unknown };
    const c = b.result?.code ?? b.code;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}
