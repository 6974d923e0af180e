// The UseePay simulator: PaymentIntent and refund lists by creation window, retrieval, JSON refunds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatMinor, jsonNumberToMinor } from '../../shared/money.js';
import type { SandboxCredentials } from '../data.js';
import { applyReadFault, type FaultInjector } from './faults.js';
import { jsonOf, readBody, sendJson, sendJsonText, serialiseAll } from './http-util.js';
import { holdOpen } from './payunity.js';
import { TimeIndex } from './time-index.js';

type Obj = Record<string, unknown> & { id: string };

/** The largest page_size UseePay accepts. */
const MAX_PAGE_SIZE = 1000;

export interface UseepaySimulatorOptions {
  /** Wrap lists in `data` instead of `items` (some SDK versions do). */
  listKey?: 'items' | 'data';
}

function createdAt(o: Obj): number {
  const text = o.create_at ?? o.created_at;
  const t = typeof text === 'string' ? Date.parse(text) : NaN;
  if (Number.isNaN(t))
    throw new Error(`sandbox useepay object ${o.id}: create_at ${String(text)} is not ISO 8601`);
  return t;
}

function err(res: ServerResponse, status: number, code: string, message: string, source?: string): void {
  sendJson(res, status, { code, ...(source ? { source } : {}), message });
}

export class UseepaySimulator {
  private readonly intents: TimeIndex<Obj>;
  private readonly refunds: TimeIndex<Obj>;
  private readonly intentById = new Map<string, Obj>();
  private readonly refundById = new Map<string, Obj>();
  private readonly refundsByIntent = new Map<string, Obj[]>();
  private seq = 0;

  constructor(
    private readonly data: { intents: Record<string, unknown>[]; refunds: Record<string, unknown>[] },
    private readonly creds: SandboxCredentials['useepay'],
    private readonly faults: FaultInjector,
    private readonly now: () => Date,
    private readonly opts: UseepaySimulatorOptions = {},
  ) {
    this.intents = new TimeIndex(data.intents.map((o) => ({ t: createdAt(o as Obj), item: o as Obj })));
    this.refunds = new TimeIndex(data.refunds.map((o) => ({ t: createdAt(o as Obj), item: o as Obj })));
    for (const o of data.intents) this.intentById.set((o as Obj).id, o as Obj);
    for (const o of data.refunds) this.rememberRefund(o as Obj);
    serialiseAll(data.intents);
    serialiseAll(data.refunds);
  }

  private rememberRefund(r: Obj): void {
    this.refundById.set(r.id, r);
    const pi = r.payment_intent_id;
    if (typeof pi === 'string') {
      const list = this.refundsByIntent.get(pi);
      if (list) list.push(r);
      else this.refundsByIntent.set(pi, [r]);
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const h = req.headers;
    if (
      h['x-merchant-no'] !== this.creds.merchantNo ||
      h['x-api-key'] !== this.creds.apiKey ||
      h['x-app-id'] !== this.creds.appId
    ) {
      return err(res, 401, 'unauthorized', 'invalid merchant number, app id or api key');
    }
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (req.method === 'POST' && url.pathname === '/api/v1/refunds/create')
      return this.createRefund(req, res);
    if (req.method !== 'GET') return err(res, 405, 'invalid_argument', 'method not allowed');
    const applied = await applyReadFault(this.faults.nextReadFault(), this.faults.options, req, res);
    if (applied === 'answered') return;
    const malformed = applied === 'malformed';
    if (url.pathname === '/api/v1/payment_intents') return this.list(this.intents, url, res, malformed);
    if (url.pathname === '/api/v1/refunds') {
      const pi = url.searchParams.get('payment_intent_id');
      if (pi !== null) return this.page(this.refundsByIntent.get(pi) ?? [], url, res, malformed);
      return this.list(this.refunds, url, res, malformed);
    }
    let m = /^\/api\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname);
    if (m) return this.one(this.intentById.get(decodeURIComponent(m[1]!)), 'payment intent', res, malformed);
    m = /^\/api\/v1\/refunds\/([^/]+)$/.exec(url.pathname);
    if (m) return this.one(this.refundById.get(decodeURIComponent(m[1]!)), 'refund', res, malformed);
    return err(res, 404, 'resource_not_found', 'unknown path');
  }

  private paging(url: URL, res: ServerResponse): { num: number; size: number } | undefined {
    const num = Number(url.searchParams.get('page_num') ?? '0');
    const size = Number(url.searchParams.get('page_size') ?? '20');
    if (!Number.isInteger(num) || num < 0)
      return void err(res, 400, 'invalid_argument', 'page_num must be an integer >= 0', 'page_num');
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      return void err(res, 400, 'invalid_argument', 'page_size out of range', 'page_size');
    return { num, size };
  }

  private list(index: TimeIndex<Obj>, url: URL, res: ServerResponse, malformed: boolean): void {
    const p = this.paging(url, res);
    if (!p) return;
    const bound = (name: string, dflt: number): number | undefined => {
      const v = url.searchParams.get(name);
      if (v === null) return dflt;
      const t = Date.parse(v);
      if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(v))
        return void err(res, 400, 'invalid_argument', `${name} must be ISO 8601`, name);
      return t;
    };
    const from = bound('from_created_at', -8.64e15);
    if (from === undefined) return;
    const to = bound('to_created_at', 8.64e15);
    if (to === undefined) return;
    const [lo, hi] = index.range(from, to);
    const start = lo + p.num * p.size;
    const items: string[] = [];
    for (let i = start; i < Math.min(hi, start + p.size); i++) items.push(jsonOf(index.at(i)));
    this.send(res, items, start + p.size < hi, malformed);
  }

  private page(all: Obj[], url: URL, res: ServerResponse, malformed: boolean): void {
    const p = this.paging(url, res);
    if (!p) return;
    const items = all.slice(p.num * p.size, (p.num + 1) * p.size).map(jsonOf);
    this.send(res, items, (p.num + 1) * p.size < all.length, malformed);
  }

  private send(res: ServerResponse, items: string[], hasMore: boolean, malformed: boolean): void {
    sendJsonText(
      res,
      200,
      `{"${this.opts.listKey ?? 'items'}":[${items.join(',')}],"has_more":${hasMore}}`,
      malformed,
    );
  }

  private one(o: Obj | undefined, what: string, res: ServerResponse, malformed: boolean): void {
    if (!o) return err(res, 404, 'resource_not_found', `${what} not found`);
    sendJsonText(res, 200, jsonOf(o), malformed);
  }

  private async createRefund(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return err(res, 400, 'invalid_argument', 'expected a JSON body');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null) throw new Error('not an object');
    } catch {
      return err(res, 400, 'invalid_argument', 'body is not a JSON object');
    }
    const piId = body.payment_intent_id;
    if (typeof piId !== 'string' || piId === '')
      return err(res, 400, 'field_required', 'payment_intent_id is required', 'payment_intent_id');
    const intent = this.intentById.get(piId);
    if (!intent) return err(res, 404, 'resource_not_found', 'payment intent not found', 'payment_intent_id');
    if (intent.status !== 'succeeded')
      return err(
        res,
        400,
        'invalid_argument',
        `payment intent is ${String(intent.status)}`,
        'payment_intent_id',
      );
    const currency = String(intent.currency);
    if (body.currency !== undefined && body.currency !== currency)
      return err(res, 400, 'invalid_argument', 'currency differs from the payment intent', 'currency');
    const captured = jsonNumberToMinor(Number(intent.captured_amount ?? intent.amount), currency);
    const refunded = (this.refundsByIntent.get(piId) ?? [])
      .filter((r) => r.status !== 'failed')
      .reduce((s, r) => s + jsonNumberToMinor(Number(r.amount), currency), 0);
    let amount: number;
    if (body.amount === undefined || body.amount === null) amount = captured - refunded;
    else {
      if (typeof body.amount !== 'number')
        return err(res, 400, 'invalid_argument', 'amount must be a JSON number', 'amount');
      try {
        amount = jsonNumberToMinor(body.amount, currency);
      } catch {
        return err(
          res,
          400,
          'invalid_argument',
          `amount has more decimals than ${currency} allows`,
          'amount',
        );
      }
    }
    if (amount <= 0) return err(res, 400, 'invalid_argument', 'amount must be positive', 'amount');
    if (refunded + amount > captured)
      return err(res, 400, 'invalid_argument', 'refund amount exceeds the refundable amount', 'amount');
    const now = this.now();
    const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const id = `9${String(now.getTime()).padStart(13, '0')}${String(this.seq++ % 100000).padStart(5, '0')}`;
    const refund: Obj = {
      id,
      payment_intent_id: piId,
      // A full refund states its amount as UseePay would: major units, from the exact minor units.
      amount: body.amount ?? Number(formatMinor(amount, currency)),
      currency,
      status: 'succeeded',
      reason: typeof body.reason === 'string' ? body.reason : null,
      metadata: body.metadata ?? null,
      acquirer_reference_number: null,
      create_at: ts,
      modify_at: ts,
    };
    this.data.refunds.push(refund);
    this.refunds.insert(createdAt(refund), refund);
    this.rememberRefund(refund);
    const fault = this.faults.takeRefundFault();
    if (fault === 'drop') return void req.socket.destroy();
    if (fault === 'timeout') return holdOpen(req, this.faults.options.refundHoldMs);
    sendJsonText(res, 200, jsonOf(refund));
  }
}
