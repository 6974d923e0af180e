// One CSV record -> one canonical settlement line, or the reason it is rejected. Pure and synchronous: it runs
// for every line of every file, so it allocates little and throws only for our own bugs.
import type { SettlementKind } from '../db/schema.js';
import {
  currencyExponent,
  currencyProblem,
  formatMinor,
  isCurrency,
  MoneyFormatError,
  parseMajorToMinor,
  parseMinor,
} from '../shared/money.js';
import { parseDate, parseTimestamp, type CompiledPattern } from './datetime.js';
import type { CanonicalColumnName } from './profiles/columns.js';
import type { ResolvedProfile } from './profiles/types.js';

export interface SettlementLine {
  lineNo: number;
  settlementDate: string;
  batchId: string | null;
  kind: SettlementKind;
  transactionId: string | null;
  paymentId: string | null;
  merchantReference: string | null;
  /** Epoch milliseconds, or null when the file gives none. */
  transactionTime: number | null;
  currency: string;
  grossMinor: number;
  feeMinor: number;
  netMinor: number;
  raw: string;
}

/** Where each canonical (and extra) column sits in a record: 0-based index, -1 when the profile has no such column. */
export type Layout = Record<CanonicalColumnName, number> & { extra: Record<string, number>; width: number };

/**
 * Longest id or reference a line may carry. Gateway ids are 19 to 32 characters and order references rarely pass
 * 64; the merchant reference is in a btree index, whose entries cannot exceed 2704 bytes: a longer one made the
 * COPY fail, and with it the file, the fetch and the run. 500 characters stay below that in any UTF-8.
 */
export const MAX_ID_CHARS = 500;

// byKind files write every amount as a positive number; the sign follows from what the line is.
const KIND_SIGN: Record<SettlementKind, number> = {
  payment: 1,
  chargeback_reversal: 1,
  refund: -1,
  chargeback: -1,
  fee: -1,
  adjustment: 0,
};

export type Converted = { ok: true; line: SettlementLine } | { ok: false; reason: string };

function text(fields: string[], i: number): string {
  return i < 0 ? '' : (fields[i] ?? '').trim();
}

export function convertRecord(
  p: ResolvedProfile,
  layout: Layout,
  fields: string[],
  lineNo: number,
  raw: string,
  fileDate: string | null,
): Converted {
  if (fields.length !== layout.width)
    return { ok: false, reason: `expected ${layout.width} columns, found ${fields.length}` };
  const kindText = text(fields, layout.kind);
  const kind = p.kindOf(kindText, (name) => text(fields, layout.extra[name] ?? -1));
  if (!kind) return { ok: false, reason: `unknown type "${kindText}"` };

  const currency = text(fields, layout.currency);
  if (!isCurrency(currency)) return { ok: false, reason: currencyProblem(currency) };

  let grossMinor: number;
  let feeMinor: number;
  let fileNet: number | null;
  try {
    grossMinor = amount(p, text(fields, layout.gross), currency, 'gross', false);
    feeMinor = amount(p, text(fields, layout.fee), currency, 'fee', true);
    fileNet =
      layout.net < 0 || text(fields, layout.net) === ''
        ? null
        : amount(p, text(fields, layout.net), currency, 'net', false);
  } catch (e) {
    if (e instanceof MoneyFormatError) return { ok: false, reason: e.message };
    throw e;
  }
  if (p.signs === 'byKind') {
    const sign = KIND_SIGN[kind];
    if (sign !== 0) {
      if (grossMinor < 0 || (fileNet !== null && fileNet < 0))
        return { ok: false, reason: 'negative amount in a file whose signs come from the type' };
      grossMinor = sign * grossMinor || 0;
      if (fileNet !== null) fileNet = sign * fileNet || 0;
    }
  }
  const major = (minor: number) => formatMinor(minor, currency);
  if (feeMinor < 0) return { ok: false, reason: `fee is negative (${major(feeMinor)} ${currency})` };
  const netMinor = grossMinor - feeMinor;
  if (fileNet !== null && fileNet !== netMinor) {
    return {
      ok: false,
      reason: `net ${major(fileNet)} != gross ${major(grossMinor)} - fee ${major(feeMinor)} (${currency})`,
    };
  }
  if (!Number.isSafeInteger(netMinor)) return { ok: false, reason: 'amount too large' };

  let settlementDate = fileDate;
  if (layout.settlementDate >= 0) {
    const d = text(fields, layout.settlementDate);
    settlementDate = settlementDateOf(p.dateFormat, d);
    if (!settlementDate)
      return { ok: false, reason: `invalid settlement date "${d}" (expected ${p.dateFormat.source})` };
  }
  if (!settlementDate) return { ok: false, reason: 'no settlement date in the line or the file name' };

  let transactionTime: number | null = null;
  const t = text(fields, layout.transactionTime);
  if (t !== '') {
    transactionTime = parseTimestamp(p.timestampFormat, t, p.timezone);
    if (transactionTime === null)
      return { ok: false, reason: `invalid transaction time "${t}" (expected ${p.timestampFormat.source})` };
  }

  const transactionId = text(fields, layout.transactionId) || null;
  const paymentId = text(fields, layout.paymentId) || (kind === 'payment' ? transactionId : null);
  const batchId = text(fields, layout.batchId) || null;
  const merchantReference = text(fields, layout.merchantReference) || null;
  for (const [what, value] of [
    ['transaction id', transactionId],
    ['payment id', paymentId],
    ['merchant reference', merchantReference],
    ['batch id', batchId],
  ] as const) {
    if (value !== null && value.length > MAX_ID_CHARS)
      return { ok: false, reason: `${what} longer than ${MAX_ID_CHARS} characters` };
  }
  return {
    ok: true,
    line: {
      lineNo,
      settlementDate,
      kind,
      transactionId,
      paymentId,
      transactionTime,
      currency,
      grossMinor,
      feeMinor,
      netMinor,
      raw,
      batchId,
      merchantReference,
    },
  };
}

/** The last settlement date parsed, per pattern: a file repeats one or two dates on every line. */
let lastDate: { pattern: CompiledPattern; text: string; date: string | null } | null = null;

function settlementDateOf(pattern: CompiledPattern, text: string): string | null {
  if (lastDate?.pattern === pattern && lastDate.text === text) return lastDate.date;
  const date = parseDate(pattern, text);
  lastDate = { pattern, text, date };
  return date;
}

const exponents = new Map<string, number>();

/** currencyExponent, memoised: it runs for every amount of every line. */
export function exponentOf(currency: string): number {
  let exp = exponents.get(currency);
  if (exp === undefined) {
    exp = currencyExponent(currency);
    exponents.set(currency, exp);
  }
  return exp;
}

/**
 * The common shape ("-92.00", "1234", "5,5" with ',' as separator, at most 15 digits) parsed by one loop over
 * char codes; null for anything else, which then goes through parseMajorToMinor (and its exact error messages).
 * Measured: parseMajorToMinor's regex and string work was a tenth of the whole load's CPU.
 */
function fastMajor(value: string, currency: string, sep: number): number | null {
  const exp = exponentOf(currency);
  let i = 0;
  let neg = false;
  const c0 = value.charCodeAt(0);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    i = 1;
  }
  let v = 0;
  let digits = 0;
  let frac = -1;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === sep && frac < 0 && digits > 0) frac = 0;
    else return null;
  }
  if (digits === 0 || digits > 15 || frac === 0 || frac > exp) return null;
  const scaled = v * 10 ** (exp - Math.max(frac, 0));
  if (!Number.isSafeInteger(scaled)) return null;
  return neg && scaled !== 0 ? -scaled : scaled;
}

function amount(
  p: ResolvedProfile,
  value: string,
  currency: string,
  what: string,
  emptyIsZero: boolean,
): number {
  if (value === '') {
    if (emptyIsZero) return 0;
    throw new MoneyFormatError(`${what} is empty`);
  }
  if (p.amountUnit === 'major') {
    const fast = fastMajor(value, currency, p.decimalSeparator.charCodeAt(0));
    if (fast !== null) return fast;
  }
  try {
    return p.amountUnit === 'minor'
      ? parseMinor(value)
      : parseMajorToMinor(value, currency, {
          decimalSeparator: p.decimalSeparator,
          allowTrailingZeroDecimals: p.allowTrailingZeroDecimals,
        });
  } catch (e) {
    if (e instanceof MoneyFormatError) throw new MoneyFormatError(`${what}: ${e.message}`);
    throw e;
  }
}
