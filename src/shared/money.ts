// Money is an integer count of the currency's minor unit (house style, rule 1).
// We keep it in a JS number: every amount below 2^53 minor units (90 trillion EUR) is exact, and checked to be so.
// Decimal text is converted by string arithmetic, never through binary floats.

/**
 * The minor units of every currency payrecon accepts, as ISO 4217 (list one) gives them: the currencies a card can be
 * charged in. Not accepted: the codes that are no money one pays with (XXX "no currency", XTS for tests, gold and
 * the other metals, XDR and the other units of account, the fund codes such as CLF, UYW, USN), codes ISO withdrew
 * (HRK, SLL, ZWL, CUC…), and anything else (BTC). A table here rather than Intl: Node's Intl.supportedValuesOf
 * ('currency') includes withdrawn codes and XDR, lacks VED, changes with the ICU build, and its digits are CLDR's
 * display digits (IQD 0, HUF 0), not ISO's minor units (IQD 3, HUF 2).
 */
const ISO_EXPONENTS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    `
  AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY COP CRC
  CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES
  KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
  NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
  TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
`
      .trim()
      .split(/\s+/)
      .map((code) => [code, 2]),
  ),
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
};

/** The accepted currencies whose minor unit is not 1/100 (for SQL that needs the exponent, src/reconcile). */
export const EXPONENTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ISO_EXPONENTS).filter(([, exp]) => exp !== 2),
);

export class MoneyFormatError extends Error {
  override name = 'MoneyFormatError';
}

/** Whether `code` is an ISO 4217 currency payrecon accepts (upper case, as ISO writes it). */
export function isCurrency(code: string): boolean {
  return Object.hasOwn(ISO_EXPONENTS, code);
}

/** Why `code` is not an accepted currency, in words for a rejected line, a refused record or a configuration key. */
export function currencyProblem(code: string): string {
  return /^[A-Z]{3}$/.test(code)
    ? `currency "${code}" is not an ISO 4217 payment currency`
    : `invalid currency code "${code}"`;
}

/** Number of decimals of the currency's minor unit (JPY 0, EUR 2, KWD 3); refuses any other code by name. */
export function currencyExponent(currency: string): number {
  const exp = Object.hasOwn(ISO_EXPONENTS, currency) ? ISO_EXPONENTS[currency] : undefined;
  if (exp === undefined) throw new MoneyFormatError(currencyProblem(currency));
  return exp;
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

// A decimal point has digits on both sides: "5." reads as whole as ".50" reads as a fraction, and either may be a field
// cut short ("5.25", "1.50"); both are refused, never completed by guessing the missing digits.
const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;
const HALF_DECIMAL_RE = /^[+-]?(?:\d+\.|\.\d+)$/;

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
  if (!m && HALF_DECIMAL_RE.test(t))
    throw new MoneyFormatError(`amount "${text}" needs digits on both sides of its decimal separator`);
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
  return formatMinorWithDecimals(minor, currencyExponent(currency));
}

/** Minor units to a decimal string with `exp` decimals: (9200, 2) -> "92.00". */
export function formatMinorWithDecimals(minor: number, exp: number): string {
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
