// OPPWA payment objects -> GatewayTransaction. The wire format stays in this folder (house style).
import { maskCardNumbers } from '../../shared/card-mask.js';
import { GatewayError } from '../../shared/errors.js';
import { MoneyFormatError, parseMajorToMinor } from '../../shared/money.js';
import type { ArrayElements } from '../record-texts.js';
import { isRejected, mapOrReject, usableId, type PageSource, type RecordIdentity } from '../reject.js';
import type { GatewayKind, GatewayStatus, GatewayTransaction, RejectedRecord } from '../types.js';

/** Only the fields we read; the platform adds unknown keys anywhere, and they are ignored. */
export interface OppwaRecord {
  id: string;
  referencedId?: string;
  paymentType: string;
  paymentBrand?: string;
  amount?: string;
  currency?: string;
  merchantTransactionId?: string;
  result?: { code?: string; description?: string };
  timestamp: string;
}

const KINDS: Readonly<Record<string, GatewayKind>> = {
  DB: 'payment',
  CP: 'payment',
  RB: 'payment',
  PA: 'authorization',
  RF: 'refund',
  CB: 'chargeback',
  CR: 'chargeback_reversal',
  RV: 'reversal',
  RC: 'receipt',
};

// Direction of money for the types that carry an amount: + to the merchant, − to the shopper. RV cancels a
// reservation or payment, CD (credit) pays the shopper out; neither is reconciled, but the sign keeps them honest.
const SIGN: Readonly<Record<string, 1 | -1>> = {
  DB: 1,
  CP: 1,
  RB: 1,
  PA: 1,
  RC: 1,
  CR: 1,
  RF: -1,
  CB: -1,
  RV: -1,
  CD: -1,
};

/** The money types we ask /v3/query for: 3D, RI, RG, CF, RD carry nothing to reconcile. */
export const MONEY_PAYMENT_TYPES = ['DB', 'PA', 'CP', 'RF', 'RV', 'CB', 'CR', 'RB', 'RC'] as const;

// Result-code groups exactly as OPPWA documents them (gateways.md); order matters only for readability.
const STATUS_RULES: readonly [RegExp, GatewayStatus][] = [
  [/^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0)/, 'succeeded'],
  [/^(000\.400\.0[^3]|000\.400\.100)/, 'review'],
  [/^(000\.200)/, 'pending'],
  [/^(800\.400\.5|100\.400\.500)/, 'pending_long'],
  [/^(000\.100\.2)/, 'chargeback'],
];

export function statusFromResultCode(code: string | undefined): GatewayStatus {
  if (!code) return 'failed';
  for (const [re, status] of STATUS_RULES) if (re.test(code)) return status;
  return 'failed';
}

export function kindOf(paymentType: string): GatewayKind {
  return KINDS[paymentType] ?? 'non_money';
}

const OPPWA_TS = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(?:([+-]\d{2}):?(\d{2})|Z)?$/;

/** "2023-08-15 00:05:51.240+0000" or without milliseconds. */
export function parseOppwaTimestamp(text: string): Date {
  const m = OPPWA_TS.exec(text.trim());
  if (!m) throw new Error(`timestamp "${text}" is not an OPPWA timestamp`);
  const frac = (m[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  const offset = m[4] ? `${m[4]}:${m[5] ?? '00'}` : 'Z';
  const d = new Date(`${m[1]}T${m[2]}${frac}${offset}`);
  if (Number.isNaN(d.getTime())) throw new Error(`timestamp "${text}" is not a valid date`);
  return d;
}

/** OPPWA's own timestamp format, for the query window parameters: "2026-11-20 00:00:00". */
export function formatOppwaQueryTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function isRecord(v: unknown): v is OppwaRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    r.id.trim() !== '' &&
    typeof r.paymentType === 'string' &&
    typeof r.timestamp === 'string'
  );
}

/** One OPPWA record to our domain type. Throws GatewayError naming the record when it is unusable. */
export function mapPayunityRecord(raw: unknown): GatewayTransaction {
  if (!isRecord(raw))
    throw new GatewayError(
      `payunity returned a record without id, paymentType or timestamp (or with an empty id): ${JSON.stringify(raw).slice(0, 200)}`,
      'payunity',
    );
  const kind = kindOf(raw.paymentType);
  let amountMinor: number | null = null;
  let currency: string | null = null;
  const sign = SIGN[raw.paymentType];
  // Amounts of non-money records (3D with the pseudo-currency OPS, RI…) mean nothing and are not kept.
  if (sign !== undefined && raw.amount !== undefined && raw.amount !== '' && raw.currency) {
    try {
      // OPPWA writes amounts and currencies as strings; a JSON number may already have lost digits, and is refused.
      for (const [field, value] of [
        ['amount', raw.amount],
        ['currency', raw.currency],
      ] as const)
        if (typeof value !== 'string')
          throw new MoneyFormatError(`${field} ${JSON.stringify(value)} is a ${typeof value}, not a string`);
      // "56.00" for JPY is how OPPWA writes it; a non-zero extra decimal is bad data, never rounded.
      const minor = parseMajorToMinor(raw.amount, raw.currency, { allowTrailingZeroDecimals: true });
      if (minor < 0) throw new MoneyFormatError(`negative amount "${raw.amount}"`);
      amountMinor = minor === 0 ? 0 : sign * minor;
      currency = raw.currency;
    } catch (e) {
      throw new GatewayError(
        `payunity record ${raw.id} (${raw.paymentType}): ${(e as Error).message}`,
        'payunity',
        { cause: e },
      );
    }
  }
  let transactionTime: Date;
  try {
    transactionTime = parseOppwaTimestamp(raw.timestamp);
  } catch (e) {
    throw new GatewayError(`payunity record ${raw.id}: ${(e as Error).message}`, 'payunity', { cause: e });
  }
  const referencedId =
    typeof raw.referencedId === 'string' && raw.referencedId !== '' ? raw.referencedId : null;
  return {
    provider: 'payunity',
    transactionId: raw.id,
    gatewayType: raw.paymentType,
    kind,
    status: statusFromResultCode(raw.result?.code),
    // The immediate parent for now: storeTransactions walks referencedId to the root in SQL, where every
    // record pulled so far is visible (follow-ups often arrive before or long after their payment).
    rootPaymentId: referencedId ?? raw.id,
    referencedId,
    merchantReference:
      typeof raw.merchantTransactionId === 'string' && raw.merchantTransactionId !== ''
        ? maskCardNumbers(raw.merchantTransactionId)
        : null,
    amountMinor,
    currency,
    transactionTime,
    brand: typeof raw.paymentBrand === 'string' ? raw.paymentBrand : null,
    resultCode: raw.result?.code ?? null,
    raw,
  };
}

/**
 * The (id, paymentType) pairs seen so far in a window. A set of ids per payment type holds each id string the
 * record already has, where one set of joined keys made (and kept for the whole day) a new string per record.
 */
export type SeenKeys = Map<string, Set<string>>;

/**
 * Maps a list, dropping repeats of the same (id, paymentType): OPPWA returns some records twice. Strict: the first
 * record that cannot be mapped throws its GatewayError (a pull rejects it instead: readPayunityRecords).
 */
export function mapPayunityRecords(
  records: readonly unknown[],
  seen: SeenKeys = new Map(),
): GatewayTransaction[] {
  const source: PageSource = {
    provider: 'payunity',
    endpoint: 'v3/query',
    window: { from: new Date(0), to: new Date(0) },
  };
  const read = readPayunityRecords(source, records, seen);
  const bad = read.rejected[0];
  if (bad) throw new GatewayError(bad.reason, 'payunity');
  return read.records;
}

/** Types that are a payment of their own (a root): a rejected one holds refunds of itself only. */
const ROOT_TYPES = new Set(['DB', 'PA', '3D', 'RI', 'RG', 'CF', 'RD']);

/** What a record that could not be mapped still tells: see RejectedRecord.holdId. */
export function payunityIdentity(raw: unknown): RecordIdentity {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const recordId = usableId(r.id);
  const gatewayType = usableId(r.paymentType);
  const referencedId = usableId(r.referencedId);
  // A follow-up names its payment; a root payment is its own. Anything else (no type, an RF without referencedId)
  // may be a refund or chargeback of any payment.
  const own = recordId !== null && gatewayType !== null && ROOT_TYPES.has(gatewayType) ? recordId : null;
  return { recordId, gatewayType, referencedId, holdId: referencedId ?? own };
}

/**
 * mapPayunityRecords for a pull: a record that cannot be mapped is rejected (see reject.ts) and the rest go on.
 * Rejected records are not remembered as seen: the same id mapped fine later in the window is kept.
 */
export function readPayunityRecords(
  source: PageSource,
  records: readonly unknown[],
  seen: SeenKeys,
  texts?: ArrayElements,
): { records: GatewayTransaction[]; rejected: RejectedRecord[] } {
  const out: GatewayTransaction[] = [];
  const rejected: RejectedRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    const t = mapOrReject(
      source,
      records[i],
      texts?.texts[i],
      texts?.depths[i],
      mapPayunityRecord,
      payunityIdentity,
    );
    if (isRejected(t)) {
      rejected.push(t);
      continue;
    }
    let ids = seen.get(t.gatewayType);
    if (!ids) {
      ids = new Set();
      seen.set(t.gatewayType, ids);
    }
    if (ids.has(t.transactionId)) continue;
    ids.add(t.transactionId);
    out.push(t);
  }
  return { records: out, rejected };
}
