// UseePay client (Open API "V2" under /api/v1): intents and refunds listed by creation window, JSON refunds.
import type { UseepayConfig } from '../../config/schema.js';
import { GatewayError } from '../../shared/errors.js';
import { formatMinor } from '../../shared/money.js';
import { HttpClient, type HttpDeps, type HttpResponse } from '../http.js';
import { firstRejections, orderedPages, stalePages } from '../pages.js';
import { recordTexts, type ArrayElements } from '../record-texts.js';
import { isRejected, mapLookedUp, mapOrReject, type RecordIdentity } from '../reject.js';
import type {
  GatewayClient,
  GatewayTransaction,
  PulledPage,
  RejectedRecord,
  PullWindow,
  RefundOutcome,
  RefundRequest,
} from '../types.js';
import { RefundUnknownError } from '../types.js';
import { dayWindows } from '../windows.js';
import {
  mapUseepayIntent,
  mapUseepayRefund,
  useepayIntentIdentity,
  useepayRefundIdentity,
  useepayRefundStatus,
} from './map.js';

/** The metadata key that carries our idempotency key on a refund (UseePay has no idempotency header). */
export const IDEMPOTENCY_METADATA_KEY = 'payrecon_idempotency_key';
export const USEEPAY_INTENTS_ENDPOINT = 'payment_intents';
export const USEEPAY_REFUNDS_ENDPOINT = 'refunds';
/** Records per list page. */
const PAGE_SIZE = 100;

interface ListPage {
  items: unknown[];
  hasMore: boolean;
  /** Each item's text in the answer (see recordTexts). */
  texts: ArrayElements | undefined;
}

export class UseepayClient implements GatewayClient {
  readonly provider = 'useepay' as const;
  private readonly http: HttpClient;

  constructor(
    private readonly config: UseepayConfig,
    deps: HttpDeps,
  ) {
    this.http = new HttpClient(
      {
        provider: 'useepay',
        baseUrl: config.baseUrl,
        timeoutMs: config.pull.timeoutSeconds * 1000,
        retries: config.pull.retries,
        concurrency: config.pull.concurrency,
        headers: {
          'x-merchant-no': config.merchantNo,
          'x-api-key': config.apiKey,
          'x-app-id': config.appId,
          // Pinned, so a new API version cannot change the shapes under us.
          'x-api-version': config.apiVersion,
        },
        credentialHint: 'providers.useepay.apiKey, merchantNo and appId',
      },
      deps,
    );
  }

  async *pull(window: PullWindow, signal?: AbortSignal): AsyncIterable<PulledPage> {
    for (const w of dayWindows(window)) {
      for (const [endpoint, map, identify] of [
        [USEEPAY_INTENTS_ENDPOINT, mapUseepayIntent, useepayIntentIdentity],
        [USEEPAY_REFUNDS_ENDPOINT, mapUseepayRefund, useepayRefundIdentity],
      ] as const) {
        const seen = new Set<string>();
        const once = firstRejections();
        const source = { provider: 'useepay', endpoint, window: w } as const;
        const query = {
          from_created_at: w.from.toISOString(),
          // Inclusive upper bound; our windows end exclusively.
          to_created_at: new Date(w.to.getTime() - 1).toISOString(),
          page_size: PAGE_SIZE,
        };
        // has_more gives no page count: request a few pages ahead and drop those past the last.
        const pages = orderedPages(
          0,
          undefined,
          this.config.pull.concurrency,
          (n) => this.list(endpoint, { ...query, page_num: n }, signal),
          (p) => !p.hasMore || p.items.length === 0,
        );
        let pageNum = -1;
        const stale = stalePages(
          'useepay',
          () => `${endpoint} up to page_num ${pageNum} of the day from ${w.from.toISOString()}`,
        );
        for await (const page of pages) {
          pageNum++;
          const records: GatewayTransaction[] = [];
          const bad: RejectedRecord[] = [];
          for (let i = 0; i < page.items.length; i++) {
            const t = mapOrReject(
              source,
              page.items[i],
              page.texts?.texts[i],
              page.texts?.depths[i],
              map,
              identify,
            );
            if (isRejected(t)) {
              bad.push(t);
              continue;
            }
            if (seen.has(t.transactionId)) continue;
            seen.add(t.transactionId);
            records.push(t);
          }
          const rejected = once(bad);
          stale(page.items.length, records.length + rejected.length);
          yield { endpoint, window: w, records, rejected };
        }
      }
    }
  }

  private async list(
    endpoint: string,
    query: Record<string, string | number | undefined>,
    signal?: AbortSignal,
  ): Promise<ListPage> {
    const res = await this.http.getJson(`api/v1/${endpoint}`, query, signal);
    if (res.status !== 200) throw this.failure(`/api/v1/${endpoint}`, res);
    const body = (res.body ?? {}) as { items?: unknown; data?: unknown; has_more?: unknown };
    // Some SDK code reads `data` instead of `items`: accept both.
    const key = body.items != null ? 'items' : 'data';
    const items = body[key] ?? [];
    if (!Array.isArray(items))
      throw new GatewayError(`useepay /api/v1/${endpoint}: items is not a list`, 'useepay');
    return { items, hasMore: body.has_more === true, texts: recordTexts(res.text, key, items) };
  }

  async lookup(transactionId: string, signal?: AbortSignal): Promise<GatewayTransaction[]> {
    const intent = await this.retrieve('payment_intents', transactionId, signal);
    if (intent) return [looked(USEEPAY_INTENTS_ENDPOINT, intent, mapUseepayIntent, useepayIntentIdentity)];
    const refund = await this.retrieve('refunds', transactionId, signal);
    if (!refund) return [];
    const out = [looked(USEEPAY_REFUNDS_ENDPOINT, refund, mapUseepayRefund, useepayRefundIdentity)];
    const parentId = (refund.object as { payment_intent_id?: unknown }).payment_intent_id;
    if (typeof parentId === 'string') {
      const parent = await this.retrieve('payment_intents', parentId, signal);
      if (parent) out.push(looked(USEEPAY_INTENTS_ENDPOINT, parent, mapUseepayIntent, useepayIntentIdentity));
    }
    return out;
  }

  /** The object retrieved, and the answer's text when the answer is that object itself (not wrapped in `data`). */
  private async retrieve(
    kind: 'payment_intents' | 'refunds',
    id: string,
    signal?: AbortSignal,
  ): Promise<{ object: unknown; text: string | undefined } | undefined> {
    const res = await this.http.getJson(`api/v1/${kind}/${encodeURIComponent(id)}`, {}, signal);
    if (res.status === 404 || (res.body as { code?: unknown } | undefined)?.code === 'resource_not_found')
      return undefined;
    if (res.status !== 200) throw this.failure(`/api/v1/${kind}/{id}`, res);
    const object = unwrap(res.body);
    return { object, text: object === res.body ? res.text.trim() : undefined };
  }

  async createRefund(req: RefundRequest, signal?: AbortSignal): Promise<RefundOutcome> {
    const body = JSON.stringify({
      payment_intent_id: req.paymentId,
      // Major units as a JSON number: the shortest decimal form of the exact text, e.g. 10.5.
      amount: Number(formatMinor(req.amountMinor, req.currency)),
      currency: req.currency,
      reason: req.reason,
      metadata: { [IDEMPOTENCY_METADATA_KEY]: req.idempotencyKey },
    });
    const res = await this.http.postOnce('api/v1/refunds/create', body, 'application/json', signal);
    // A 2xx answer carries the refund; a 4xx is a refusal (a request timeout or a rate limit is not: it may have been
    // applied, or will be looked up anyway). Anything else says nothing: the refund may exist.
    const refused = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    if (res.status < 200 || (res.status >= 300 && !refused))
      throw new RefundUnknownError(`useepay: HTTP ${res.status} to a refund; it may have been applied`);
    if (refused) {
      const e = (res.body ?? {}) as { code?: unknown; message?: unknown };
      return {
        state: 'failed',
        refundId: null,
        code: typeof e.code === 'string' ? e.code : `http_${res.status}`,
        message: typeof e.message === 'string' ? e.message : 'refund refused',
        raw: res.body,
      };
    }
    return refundOutcome(unwrap(res.body));
  }

  async findRefund(
    req: Pick<RefundRequest, 'paymentId' | 'idempotencyKey'>,
    signal?: AbortSignal,
  ): Promise<RefundOutcome | undefined> {
    for (let page = 0; page < 1000; page++) {
      const res = await this.list(
        'refunds',
        { payment_intent_id: req.paymentId, page_num: page, page_size: PAGE_SIZE },
        signal,
      );
      const hit = res.items.find(
        (r) =>
          (r as { metadata?: Record<string, unknown> | null }).metadata?.[IDEMPOTENCY_METADATA_KEY] ===
          req.idempotencyKey,
      );
      if (hit !== undefined) return refundOutcome(hit);
      if (!res.hasMore || res.items.length === 0) return undefined;
    }
    return undefined;
  }

  private failure(path: string, res: HttpResponse): GatewayError {
    const b = (res.body ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof b.code === 'string' ? b.code : undefined;
    return new GatewayError(
      `useepay ${path} answered HTTP ${res.status} ${code ?? ''} ${typeof b.message === 'string' ? b.message : ''}`.trim(),
      'useepay',
      { status: res.status, code },
    );
  }
}

/** `t`, stored as `text` when there is one (else serialised again). */
/** One object a lookup retrieved, mapped, or a RecordRejectedError (see mapLookedUp). */
function looked(
  endpoint: string,
  found: { object: unknown; text: string | undefined },
  map: (raw: unknown) => GatewayTransaction,
  identify: (raw: unknown) => RecordIdentity,
): GatewayTransaction {
  return mapLookedUp('useepay', `${endpoint}/{id}`, new Date(), found.object, found.text, map, identify);
}

/** Single objects may come bare or wrapped in `data`. */
function unwrap(body: unknown): unknown {
  const d = (body as { data?: unknown } | undefined)?.data;
  return d !== null &&
    typeof d === 'object' &&
    !Array.isArray(d) &&
    typeof (d as { id?: unknown }).id === 'string'
    ? d
    : body;
}

function refundOutcome(obj: unknown): RefundOutcome {
  const r = (obj ?? {}) as {
    id?: unknown;
    status?: unknown;
    last_error?: { code?: unknown; message?: unknown };
  };
  const refundId = typeof r.id === 'string' && r.id !== '' ? r.id : null;
  const status = typeof r.status === 'string' ? r.status : '';
  // Without a status or an id the answer says nothing clear: the refund may exist, so it is looked up before any
  // resend, never called failed (a failed refund may be planned, and sent, again). Otherwise as a pull reads it.
  if (!status || !refundId)
    throw new RefundUnknownError(`useepay: the refund answer has no ${status ? 'id' : 'status'}`);
  const read = useepayRefundStatus(status);
  if (read === 'succeeded') return { state: 'succeeded', refundId, raw: obj };
  if (read === 'pending') return { state: 'pending', refundId, raw: obj };
  return {
    state: 'failed',
    refundId,
    code: status || 'unknown',
    message: `refund status ${status || 'missing'}`,
    raw: obj,
  };
}
