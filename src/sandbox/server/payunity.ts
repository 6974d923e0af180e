// The PayUnity (OPPWA) simulator: /v3/query, /v1/query, refunds by form POST, as gateways.md describes them.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseMajorToMinor } from '../../shared/money.js';
import type { SandboxCredentials } from '../data.js';
import { applyReadFault, type FaultInjector } from './faults.js';
import { jsonOf, Lru, readBody, sendJson, sendJsonText, serialiseAll } from './http-util.js';
import { TimeIndex } from './time-index.js';
import { wireAmount } from '../generate/payunity-wire.js';

type Rec = Record<string, unknown> & { id: string; paymentType: string };

const PAGE_SIZE = 100;
const TS = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,3})?\+0000$/;
const SUCCESS = /^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0|000\.400\.0[^3]|000\.400\.100)/;
const MONEY_IN = new Set(['DB', 'CP', 'RB']);

function envelope(): { buildNumber: string; timestamp: string; ndc: string } {
  return {
    buildNumber: 'sandbox@2026-11-21',
    timestamp: oppwaTime(new Date()),
    ndc: randomBytes(16).toString('hex').toUpperCase() + '.prod01-vm-tx01',
  };
}

export function oppwaTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+0000');
}

function recordTime(r: Rec): number {
  const m = TS.exec(String(r.timestamp));
  if (!m)
    throw new Error(
      `sandbox payunity record ${r.id}: timestamp ${String(r.timestamp)} is not "YYYY-MM-DD HH:MM:SS.mmm+0000"`,
    );
  return Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}Z`);
}

/** date.from / date.to as OPPWA takes them: "YYYY-MM-DD HH:MM:SS", UTC. */
function queryTime(v: string | null): number | undefined {
  const m = v ? /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(v) : null;
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(t) ? undefined : t;
}

function error(
  res: ServerResponse,
  status: number,
  code: string,
  description: string,
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, status, { result: { code, description, ...extra }, ...envelope() });
}

function invalidParam(res: ServerResponse, name: string, value: string | null, message: string): void {
  error(res, 400, '200.300.404', 'invalid or missing parameter', {
    parameterErrors: [{ name, value: value ?? '', message }],
  });
}

export class PayunitySimulator {
  private readonly index: TimeIndex<Rec>;
  private readonly byId = new Map<string, Rec[]>();
  private readonly byRef = new Map<string, Rec[]>();
  private readonly byMerchantTx = new Map<string, Rec[]>();
  private readonly filtered = new Lru<string, Rec[]>(32);
  private seq = 0;

  constructor(
    private readonly records: Record<string, unknown>[],
    private readonly creds: SandboxCredentials['payunity'],
    private readonly faults: FaultInjector,
    private readonly now: () => Date,
  ) {
    const entries = records.map((r) => ({ t: recordTime(r as Rec), item: r as Rec }));
    this.index = new TimeIndex(entries);
    for (const r of records) this.remember(r as Rec);
    serialiseAll(records);
  }

  private remember(r: Rec): void {
    const push = (m: Map<string, Rec[]>, k: unknown) => {
      if (typeof k !== 'string' || k === '') return;
      const list = m.get(k);
      if (list) list.push(r);
      else m.set(k, [r]);
    };
    push(this.byId, r.id);
    push(this.byRef, r.referencedId);
    push(this.byMerchantTx, r.merchantTransactionId);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (req.headers.authorization !== `Bearer ${this.creds.accessToken}`) {
      return error(res, 401, '800.900.300', 'invalid authentication information');
    }
    if (req.method === 'POST') return this.post(req, res, url);
    if (req.method !== 'GET') return error(res, 405, '200.300.404', 'method not allowed');
    if (url.searchParams.get('entityId') !== this.creds.entityId)
      return error(res, 401, '800.900.300', 'invalid authentication information');
    const fault = this.faults.nextReadFault();
    const applied = await applyReadFault(fault, this.faults.options, req, res);
    if (applied === 'answered') return;
    const malformed = applied === 'malformed';
    if (url.pathname === '/v3/query') return this.query(url, res, malformed);
    if (url.pathname === '/v1/query') return this.byMerchantTransactionId(url, res, malformed);
    const m = /^\/v1\/query\/([^/]+)$/.exec(url.pathname);
    if (m) return this.one(decodeURIComponent(m[1]!), res, malformed);
    return error(res, 404, '200.300.404', 'unknown resource');
  }

  private query(url: URL, res: ServerResponse, malformed: boolean): void {
    const fromText = url.searchParams.get('date.from');
    const toText = url.searchParams.get('date.to');
    const from = queryTime(fromText);
    const to = queryTime(toText);
    if (from === undefined) return invalidParam(res, 'date.from', fromText, 'expected YYYY-MM-DD HH:MM:SS');
    if (to === undefined) return invalidParam(res, 'date.to', toText, 'expected YYYY-MM-DD HH:MM:SS');
    if (to - from > 31 * 86_400_000) return invalidParam(res, 'date.to', toText, 'window too large');
    const pageText = url.searchParams.get('pageNo') ?? '1';
    const pageNo = Number(pageText);
    if (!Number.isInteger(pageNo) || pageNo < 1)
      return invalidParam(res, 'pageNo', pageText, 'must be a positive integer');
    const types = url.searchParams.get('paymentTypes');
    // date.to is inclusive to the second.
    const [lo, hi] = this.index.range(from, to + 999);
    let page: Rec[];
    let total: number;
    if (!types) {
      total = hi - lo;
      page = [];
      for (let i = lo + (pageNo - 1) * PAGE_SIZE; i < Math.min(hi, lo + pageNo * PAGE_SIZE); i++)
        page.push(this.index.at(i));
    } else {
      const key = `${lo}|${hi}|${types}|${this.index.size}`;
      let list = this.filtered.get(key);
      if (!list) {
        const wanted = new Set(types.split(','));
        list = [];
        for (let i = lo; i < hi; i++)
          if (wanted.has(this.index.at(i).paymentType)) list.push(this.index.at(i));
        this.filtered.set(key, list);
      }
      total = list.length;
      page = list.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
    }
    const pages = Math.ceil(total / PAGE_SIZE);
    if (pageNo > Math.max(1, pages)) return invalidParam(res, 'pageNo', pageText, `only ${pages} pages`);
    const head = JSON.stringify({
      result: { code: '000.000.100', description: 'successful request' },
      ...envelope(),
      pages,
    });
    sendJsonText(res, 200, `${head.slice(0, -1)},"records":[${page.map(jsonOf).join(',')}]}`, malformed);
  }

  private one(id: string, res: ServerResponse, malformed: boolean): void {
    const r = this.byId.get(id)?.[0];
    if (!r) return error(res, 400, '700.400.580', 'cannot find transaction');
    sendJson(res, 200, { ...envelope(), ...r }, malformed); // the record's own timestamp wins
  }

  private byMerchantTransactionId(url: URL, res: ServerResponse, malformed: boolean): void {
    const key = url.searchParams.get('merchantTransactionId');
    if (!key) return invalidParam(res, 'merchantTransactionId', key, 'required');
    const found = this.byMerchantTx.get(key);
    if (!found || found.length === 0) return error(res, 400, '700.400.580', 'cannot find transaction');
    sendJson(
      res,
      200,
      { result: { code: '000.000.100', description: 'successful request' }, ...envelope(), payments: found },
      malformed,
    );
  }

  private async post(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // OPPWA takes parameters in a form body only: never JSON, never in the URL.
    if (url.search !== '')
      return invalidParam(res, 'url', url.search, 'parameters must be sent in the request body');
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return invalidParam(
        res,
        'content-type',
        req.headers['content-type'] ?? null,
        'expected application/x-www-form-urlencoded',
      );
    }
    const form = new URLSearchParams(await readBody(req));
    if (form.get('entityId') !== this.creds.entityId)
      return error(res, 401, '800.900.300', 'invalid authentication information');
    const m = /^\/v1\/payments\/([^/]+)$/.exec(url.pathname);
    if (!m) return error(res, 404, '200.300.404', 'unknown resource');
    if (form.get('paymentType') !== 'RF')
      return invalidParam(res, 'paymentType', form.get('paymentType'), 'the sandbox accepts RF only');
    const outcome = this.refund(decodeURIComponent(m[1]!), form);
    const fault = outcome.status === 200 ? this.faults.takeRefundFault() : 'none';
    if (fault === 'drop') return void req.socket.destroy();
    if (fault === 'timeout') return holdOpen(req, this.faults.options.refundHoldMs);
    sendJson(res, outcome.status, outcome.body);
  }

  private refund(paymentId: string, form: URLSearchParams): { status: number; body: unknown } {
    const fail = (status: number, code: string, description: string) => ({
      status,
      body: { result: { code, description }, ...envelope() },
    });
    const payment = (this.byId.get(paymentId) ?? []).find(
      (r) => MONEY_IN.has(r.paymentType) || r.paymentType === 'PA',
    );
    if (!payment) return fail(400, '700.400.580', 'cannot find transaction');
    const currency = form.get('currency') ?? '';
    const amountText = form.get('amount') ?? '';
    if (currency !== payment.currency)
      return fail(400, '200.300.404', 'invalid or missing parameter: currency');
    let amount: number;
    try {
      if (!/^\d{1,10}(\.\d{1,3})?$/.test(amountText)) throw new Error('format');
      amount = parseMajorToMinor(amountText, currency, { allowTrailingZeroDecimals: true });
    } catch {
      return fail(400, '200.300.404', 'invalid or missing parameter: amount');
    }
    if (amount <= 0) return fail(400, '800.100.174', 'transaction declined (invalid amount)');
    const ok = (r: Rec) => SUCCESS.test(text((r.result as { code?: unknown } | undefined)?.code) ?? '');
    if (!ok(payment))
      return fail(
        400,
        '700.400.200',
        'cannot refund (refund volume exceeded or tx reversed or invalid workflow)',
      );
    const children = this.byRef.get(paymentId) ?? [];
    const minor = (r: Rec) =>
      parseMajorToMinor(text(r.amount) ?? '0', text(r.currency) ?? currency, {
        allowTrailingZeroDecimals: true,
      });
    if (children.some((c) => c.paymentType === 'RV' && ok(c)))
      return fail(400, '700.400.200', 'cannot refund (transaction reversed)');
    // What was captured: the payment itself, or for a pre-authorization the sum of its captures.
    const captured =
      payment.paymentType === 'PA'
        ? children.filter((c) => c.paymentType === 'CP' && ok(c)).reduce((s, c) => s + minor(c), 0)
        : minor(payment);
    const refunded = children
      .filter((c) => c.paymentType === 'RF' && ok(c))
      .reduce((s, c) => s + minor(c), 0);
    if (refunded + amount > captured)
      return fail(
        400,
        '700.400.200',
        'cannot refund (refund volume exceeded or tx reversed or invalid workflow)',
      );
    const now = this.now();
    const id = (randomBytes(8).toString('hex') + (Date.now() * 1000 + this.seq++).toString(16))
      .padStart(32, '0')
      .slice(-32);
    const rf: Rec = {
      id,
      paymentType: 'RF',
      paymentBrand: payment.paymentBrand,
      amount: wireAmount(amount, currency),
      currency,
      descriptor: `${String(1000 + (this.seq % 9000))}.${String(1000 + ((this.seq * 7) % 9000))}.${String(1000 + ((this.seq * 13) % 9000))} OPP_Channel`,
      merchantTransactionId: form.get('merchantTransactionId') ?? undefined,
      result: {
        code: '000.100.110',
        description: "Request successfully processed in 'Merchant in Integrator Test Mode'",
      },
      referencedId: paymentId,
      timestamp: oppwaTime(now),
    };
    // The state change is what a later pull must see.
    this.records.push(rf);
    this.index.insert(now.getTime(), rf);
    this.remember(rf);
    this.filtered.clear();
    return { status: 200, body: { ...envelope(), ...rf } };
  }
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Applied, but the answer never comes: the client times out. The socket is destroyed after `ms`. */
export function holdOpen(req: IncomingMessage, ms = 120_000): void {
  const t = setTimeout(() => req.socket.destroy(), ms);
  t.unref();
  req.socket.once('close', () => clearTimeout(t));
}
