// Money is an integer count of the currency's minor unit (house style, rule 1).
// We keep it in a JS number: every amount below 2^53 minor units (90 trillion EUR) is exact, and checked to be so.
// Decimal text is converted by string arithmetic, never through binary floats.

/** ISO 4217 currencies whose minor unit is not 1/100. Every other three-letter code has two decimals. */
export const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export class MoneyFormatError extends Error {
  override name = 'MoneyFormatError';
}

const CURRENCY_RE = /^[A-Z]{3}$/;

export function isCurrency(code: string): boolean {
  return CURRENCY_RE.test(code);
}

/** Number of decimals of the currency's minor unit (JPY 0, EUR 2, KWD 3). */
export function currencyExponent(currency: string): number {
  if (!CURRENCY_RE.test(currency)) throw new MoneyFormatError(`invalid currency code "${currency}"`);
  return EXPONENTS[currency] ?? 2;
}

export interface ParseAmountOptions {
  /** '.' (default) or ','. */
  decimalSeparator?: '.' | ',';
  /** Digits may be grouped with this character (e.g. ' ' or '.' when the separator is ','). */
  groupSeparator?: string;
  /**
   * How many decimals the text may carry. Defaults to the currency's exponent. PayUnity writes "56.00" for JPY,
   * so its client allows two decimals as long as the digits beyond the exponent are zeros.
   */
  allowTrailingZeroDecimals?: boolean;
}

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?$/;

/**
 * Converts a decimal amount in major units ("92.00", "-10", "1.234") to minor units of `currency`, exactly.
 * More significant decimals than the currency has is an error, never rounded.
 */
export function parseMajorToMinor(text: string, currency: string, opts: ParseAmountOptions = {}): number {
  const exp = currencyExponent(currency);
  let t = text.trim();
  if (opts.groupSeparator) t = t.split(opts.groupSeparator).join('');
  if ((opts.decimalSeparator ?? '.') === ',') {
    if (t.includes('.'))
      throw new MoneyFormatError(`amount "${text}" has "." but the decimal separator is ","`);
    t = t.replace(',', '.');
  }
  const m = DECIMAL_RE.exec(t);
  if (!m) throw new MoneyFormatError(`amount "${text}" is not a decimal number`);
  const sign = m[1] === '-' ? -1 : 1;
  const intPart = m[2] ?? '0';
  let frac = m[3] ?? '';
  if (frac.length > exp) {
    const extra = frac.slice(exp);
    if (!(opts.allowTrailingZeroDecimals && /^0+$/.test(extra))) {
      throw new MoneyFormatError(`amount "${text}" has more decimals than ${currency} allows (${exp})`);
    }
    frac = frac.slice(0, exp);
  }
  const digits = (intPart + frac.padEnd(exp, '0')).replace(/^0+(?=\d)/, '');
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new MoneyFormatError(`amount "${text}" is too large`);
  return value === 0 ? 0 : sign * value;
}

/** Minor units given as an integer string ("9200", "-1000"). */
export function parseMinor(text: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t))
    throw new MoneyFormatError(`amount "${text}" is not a whole number of minor units`);
  const value = Number(t);
  if (!Number.isSafeInteger(value)) throw new MoneyFormatError(`amount "${text}" is too large`);
  return value === 0 ? 0 : value;
}

/**
 * A JSON number in major units (UseePay's `"amount": 100.23`) to minor units, exactly.
 * JSON.parse keeps the nearest double; its shortest round-trip text (`String(n)`) is the decimal that was written
 * for any amount with up to 15 significant digits, so we convert that text rather than multiplying a float.
 */
export function jsonNumberToMinor(value: number, currency: string): number {
  if (!Number.isFinite(value)) throw new MoneyFormatError(`amount ${value} is not a finite number`);
  return parseMajorToMinor(expandExponent(String(value)), currency);
}

function expandExponent(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(s);
  if (!m) return s;
  const [, sign = '', int = '', frac = '', e = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(e);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Minor units to a major-unit decimal string with the currency's decimals: (9200, EUR) -> "92.00". */
export function formatMinor(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const neg = minor < 0;
  const abs = String(Math.abs(minor));
  if (exp === 0) return (neg ? '-' : '') + abs;
  const padded = abs.padStart(exp + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -exp)}.${padded.slice(-exp)}`;
}

/** Minor units to a JS number in major units, for spreadsheet cells only (never for arithmetic). */
export function minorToMajorNumber(minor: number, currency: string): number {
  return Number(formatMinor(minor, currency));
}
