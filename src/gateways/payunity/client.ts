// PayUnity (OPPWA) client: bulk pulls through /v3/query, lookups through /v1/query, refunds as form POSTs.
import type { PayunityConfig } from '../../config/schema.js';
import { GatewayError } from '../../shared/errors.js';
import { currencyExponent, formatMinor } from '../../shared/money.js';
import { HttpClient, type HttpDeps } from '../http.js';
import { firstRejections, orderedPages, stalePages } from '../pages.js';
import { recordTexts, type ArrayElements } from '../record-texts.js';
import { mapLookedUp } from '../reject.js';
import type {
  GatewayClient,
  GatewayTransaction,
  PulledPage,
  PullWindow,
  RefundOutcome,
  RefundRequest,
} from '../types.js';
import { RefundUnknownError } from '../types.js';
import { dayWindows } from '../windows.js';
import {
  formatOppwaQueryTime,
  mapPayunityRecord,
  MONEY_PAYMENT_TYPES,
  payunityIdentity,
  readPayunityRecords,
  statusFromResultCode,
  type SeenKeys,
} from './map.js';

const NOT_FOUND = '700.400.580';
const QUERY_OK = /^000\.000\.|^000\.100\.1/;
export const PAYUNITY_QUERY_ENDPOINT = 'v3/query';

interface QueryPage {
  result?: { code?: string; description?: string };
  pages?: number | string;
  records?: unknown[];
}

/** A page of /v3/query: its page count, its records, and each record's text in the answer (see recordTexts). */
interface Page {
  pages: number | string | undefined;
  records: unknown[];
  texts: ArrayElements | undefined;
}

export class PayunityClient implements GatewayClient {
  readonly provider = 'payunity' as const;
  private readonly http: HttpClient;

  constructor(
    private readonly config: PayunityConfig,
    deps: HttpDeps,
  ) {
    this.http = new HttpClient(
      {
        provider: 'payunity',
        baseUrl: config.baseUrl,
        timeoutMs: config.pull.timeoutSeconds * 1000,
        retries: config.pull.retries,
        concurrency: config.pull.concurrency,
        headers: { authorization: `Bearer ${config.accessToken}` },
        credentialHint: 'providers.payunity.accessToken and providers.payunity.entityId',
      },
      deps,
    );
  }

  async *pull(window: PullWindow, signal?: AbortSignal): AsyncIterable<PulledPage> {
    // The maximum window of /v3/query is undocumented: never ask for more than one UTC day at a time.
    for (const w of dayWindows(window)) {
      const seen: SeenKeys = new Map();
      const first = await this.queryPage(w, 1, signal);
      const pages = Number(first.pages ?? 1);
      if (!Number.isSafeInteger(pages) || pages < 0)
        throw new GatewayError(`payunity returned pages=${String(first.pages)}`, 'payunity');
      const source = { provider: 'payunity', endpoint: PAYUNITY_QUERY_ENDPOINT, window: w } as const;
      const once = firstRejections();
      const read = (p: Page) => {
        const r = readPayunityRecords(source, p.records, seen, p.texts);
        return { ...source, records: r.records, rejected: once(r.rejected) };
      };
      yield read(first);
      if (pages <= 1) continue;
      const rest = orderedPages(2, pages - 1, this.config.pull.concurrency, (n) =>
        this.queryPage(w, n, signal),
      );
      let pageNo = 1;
      const stale = stalePages(
        'payunity',
        () => `/v3/query up to page ${pageNo} of ${pages} of the day from ${w.from.toISOString()}`,
      );
      for await (const page of rest) {
        pageNo++;
        const out = read(page);
        stale(page.records.length, out.records.length + out.rejected.length);
        yield out;
      }
    }
  }

  private async queryPage(w: PullWindow, pageNo: number, signal?: AbortSignal): Promise<Page> {
    const res = await this.http.getJson(
      'v3/query',
      {
        entityId: this.config.entityId,
        'date.from': formatOppwaQueryTime(w.from),
        // date.to is inclusive to the second; our windows end exclusively.
        'date.to': formatOppwaQueryTime(new Date(w.to.getTime() - 1000)),
        pageNo,
        paymentTypes: MONEY_PAYMENT_TYPES.join(','),
      },
      signal,
    );
    const body = (res.body ?? {}) as QueryPage;
    const code = body.result?.code;
    // An empty window is reported as "cannot find transaction". Only its first page can be empty: a later page
    // of a window that had records is records lost, never an empty tail.
    if (code === NOT_FOUND && pageNo === 1)
      return { pages: 0, records: [], texts: { texts: [], depths: [] } };
    if (code === NOT_FOUND)
      throw new GatewayError(
        `payunity /v3/query answered "cannot find transaction" for page ${pageNo} of the window from ` +
          `${w.from.toISOString()}: its records were not all read, so the window is not recorded as pulled; ` +
          'run again',
        'payunity',
      );
    if (res.status !== 200 || !code || !QUERY_OK.test(code))
      throw this.failure('/v3/query', res.status, body);
    if (body.records !== undefined && !Array.isArray(body.records))
      throw new GatewayError('payunity /v3/query: records is not a list', 'payunity');
    const records = body.records ?? [];
    return { pages: body.pages, records, texts: recordTexts(res.text, 'records', records) };
  }

  async lookup(transactionId: string, signal?: AbortSignal): Promise<GatewayTransaction[]> {
    const found = await this.byId(transactionId, signal);
    if (!found) return [];
    const out = [found];
    // A chargeback has no amount of its own: bring the payment it references so the caller can value it.
    if (found.kind === 'chargeback' && found.amountMinor === null && found.referencedId) {
      const parent = await this.byId(found.referencedId, signal);
      if (parent) out.push(parent);
    }
    return out;
  }

  private async byId(id: string, signal?: AbortSignal): Promise<GatewayTransaction | undefined> {
    const res = await this.http.getJson(
      `v1/query/${encodeURIComponent(id)}`,
      { entityId: this.config.entityId },
      signal,
    );
    const body = (res.body ?? {}) as Record<string, unknown> & QueryPage;
    if (body.result?.code === NOT_FOUND) return undefined;
    if (res.status !== 200) throw this.failure('/v1/query/{id}', res.status, body);
    // The envelope (buildNumber, ndc) is merged into the object; the mapping ignores what it does not know. The
    // record is stored as this answer's text, envelope included: it is what the gateway said about the id.
    return mapLookedUp(
      'payunity',
      'v1/query/{id}',
      new Date(),
      body,
      res.text.trim(),
      mapPayunityRecord,
      payunityIdentity,
    );
  }

  async createRefund(req: RefundRequest, signal?: AbortSignal): Promise<RefundOutcome> {
    const form = new URLSearchParams({
      entityId: this.config.entityId,
      amount: oppwaAmount(req.amountMinor, req.currency),
      currency: req.currency,
      paymentType: 'RF',
      // Our idempotency key: OPPWA has no idempotency header, so this is how we find the refund again.
      merchantTransactionId: req.idempotencyKey,
    });
    const res = await this.http.postOnce(
      `v1/payments/${encodeURIComponent(req.paymentId)}`,
      form.toString(),
      'application/x-www-form-urlencoded',
      signal,
    );
    return refundOutcome(res.body);
  }

  async findRefund(
    req: Pick<RefundRequest, 'paymentId' | 'idempotencyKey'>,
    signal?: AbortSignal,
  ): Promise<RefundOutcome | undefined> {
    const res = await this.http.getJson(
      'v1/query',
      { entityId: this.config.entityId, merchantTransactionId: req.idempotencyKey },
      signal,
    );
    const body = (res.body ?? {}) as { result?: { code?: string }; payments?: unknown[] };
    if (body.result?.code === NOT_FOUND) return undefined;
    if (res.status !== 200) throw this.failure('/v1/query', res.status, body);
    // Our key is unique to one refund, so the RF that carries it is ours, whatever it references: a refund sent to a
    // captured PA may come back referencing the PA or its CP (gateways.md). Matching on the payment too would read
    // our applied refund as absent, and send it again.
    const match = (body.payments ?? []).find((p) => (p as { paymentType?: unknown }).paymentType === 'RF');
    return match === undefined ? undefined : refundOutcome(match);
  }

  private failure(path: string, status: number, body: QueryPage): GatewayError {
    const code = body.result?.code;
    return new GatewayError(
      `payunity ${path} answered HTTP ${status} ${code ?? ''} ${body.result?.description ?? ''}`.trim(),
      'payunity',
      { status, code },
    );
  }
}

/** OPPWA writes two decimals even for zero-decimal currencies ("56.00" JPY). */
function oppwaAmount(minor: number, currency: string): string {
  return currencyExponent(currency) === 0
    ? `${formatMinor(minor, currency)}.00`
    : formatMinor(minor, currency);
}

/** An OPPWA result code: three groups of three digits. */
const RESULT_CODE = /^\d{3}\.\d{3}\.\d{3}$/;

/**
 * A refund's outcome from the answer to creating or finding it. Failed only when the platform says so with a result
 * code outside the success and pending groups; an answer that says nothing clear (no body, no result code, a success
 * without an id) may stand for an applied refund: RefundUnknownError, so it is looked up before anything is resent.
 */
function refundOutcome(body: unknown): RefundOutcome {
  const b = (body ?? {}) as { id?: unknown; result?: { code?: unknown; description?: string } };
  const refundId = typeof b.id === 'string' && b.id !== '' ? b.id : null;
  const code = typeof b.result?.code === 'string' ? b.result.code : '';
  if (!RESULT_CODE.test(code))
    throw new RefundUnknownError(`payunity: the refund answer has no result code (${code || 'none'})`);
  const status = statusFromResultCode(code);
  if (status === 'succeeded' || status === 'review' || status === 'pending' || status === 'pending_long') {
    if (!refundId) throw new RefundUnknownError(`payunity: refund ${code} answered without a refund id`);
    return {
      state: status === 'succeeded' || status === 'review' ? 'succeeded' : 'pending',
      refundId,
      raw: body,
    };
  }
  return {
    state: 'failed',
    refundId,
    code: code || 'unknown',
    message: b.result?.description ?? 'refund declined',
    raw: body,
  };
}
