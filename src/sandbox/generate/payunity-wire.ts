import { currencyExponent, formatMinor } from '../../shared/money.js';
import { clockOf, dateOf, millisOf } from './calendar.js';
import type { Ids } from './ids.js';
import { flat, type Rng } from './prng.js';

// OPPWA query records as the real test system returns them (see the shared fixture): same field names and order,
// decimal-string amounts with two decimals, "2023-08-15 00:05:51.240+0000" timestamps, referencedId on
// follow-ups, chargebacks without amount or currency. Nested objects that carry no per-payment data (result,
// resultDetails, card) are shared and frozen: a million records then cost a million small objects, not four
// million, and a simulator that tried to mutate one in place would fail loudly instead of corrupting others.

export type PayunityType = 'DB' | 'PA' | 'CP' | 'RF' | 'RV' | 'CB' | 'CR' | '3D' | 'RI';

const DESCRIPTIONS: Record<string, string> = {
  '000.000.000': 'Transaction succeeded',
  '000.100.110': "Request successfully processed in 'Merchant in Integrator Test Mode'",
  '000.100.112': "Request successfully processed in 'Merchant in Connector Test Mode'",
  '000.400.000': 'Transaction succeeded (please review manually due to fraud suspicion)',
  '000.400.109': 'Card is not enrolled for 3DS version 2',
  '000.200.000': 'transaction pending',
  '000.100.200': 'Reason not Specified',
  '000.100.201': 'Account or Bank Details Incorrect',
  '000.100.202': 'Account Closed',
  '000.100.203': 'Insufficient Funds',
  '800.100.151': 'transaction declined (invalid card)',
  '800.100.152': 'transaction declined by authorization system',
  '800.100.153': 'transaction declined (invalid CVV)',
  '800.100.155': 'transaction declined (amount exceeds credit)',
  '800.100.156': 'transaction declined (format error)',
  '800.100.171': 'transaction declined (pick up card)',
  '800.100.174': 'transaction declined (invalid amount)',
  '100.100.303': 'card expired',
  '700.400.200': 'cannot refund (refund volume exceeded or tx reversed or invalid workflow)',
};

export const SUCCESS_CODES = ['000.100.110', '000.100.110', '000.100.112', '000.000.000'];
export const DECLINE_CODES = [
  '800.100.151',
  '800.100.152',
  '800.100.153',
  '800.100.155',
  '800.100.156',
  '800.100.171',
  '800.100.174',
  '100.100.303',
];
export const CHARGEBACK_CODES = ['000.100.200', '000.100.201', '000.100.202', '000.100.203'];

const RESULTS = new Map<string, Readonly<Record<string, string>>>(
  Object.entries(DESCRIPTIONS).map(([code, description]) => [code, Object.freeze({ code, description })]),
);

const CARD_BRANDS: readonly [string, string][] = [
  ['VISA', '420000'],
  ['VISA', '411111'],
  ['VISA', '476173'],
  ['MASTER', '545454'],
  ['MASTER', '520000'],
  ['VISAELECTRON', '491730'],
  ['MAESTRO', '675964'],
  ['DINERS', '360569'],
  ['DISCOVER', '601100'],
];
const HOLDERS = [
  'Jane Jones',
  'Max Mustermann',
  'Erika Musterfrau',
  'John Smith',
  'Yuki Tanaka',
  'Case',
  'Anna Rossi',
];
const INSTITUTES = ['Elavon-euroconex_UK_Test', 'AIBMS', 'Worldpay_UK_Test'].map((name) =>
  Object.freeze({ clearingInstituteName: name }),
);

interface Card {
  brand: string;
  card: Readonly<Record<string, string>>;
  details: Readonly<Record<string, string>>;
}

export interface PayunityRecordArgs {
  id: string;
  type: PayunityType;
  referencedId?: string;
  /** Unsigned minor units; absent for CB, RI. */
  amountMinor?: number;
  currency?: string;
  merchantTransactionId?: string;
  code: string;
  timeMs: number;
  card: Card;
}

export class PayunityWire {
  private readonly cards: Card[];

  constructor(
    private readonly rng: Rng,
    private readonly ids: Ids,
  ) {
    this.cards = Array.from({ length: 48 }, () => {
      const [brand, bin] = rng.pick(CARD_BRANDS);
      const card = Object.freeze({
        bin,
        last4Digits: rng.digits(4),
        holder: rng.pick(HOLDERS),
        expiryMonth: String(rng.int(1, 12)).padStart(2, '0'),
        expiryYear: String(rng.int(2027, 2031)),
      });
      return { brand, card, details: rng.pick(INSTITUTES) };
    });
  }

  pickCard(): Card {
    return this.rng.pick(this.cards);
  }

  /** Real records sometimes drop the milliseconds: about one in ten does here. Returns the time it encodes. */
  time(ms: number): number {
    return this.rng.chance(0.1) ? ms - (ms % 1000) : ms;
  }

  record(a: PayunityRecordArgs): Record<string, unknown> {
    const result = RESULTS.get(a.code);
    if (!result) throw new Error(`no description for result code ${a.code}`);
    const ms = a.timeMs % 1000 === 0 ? '' : `.${millisOf(a.timeMs)}`;
    const timestamp = flat([dateOf(a.timeMs), ' ', clockOf(a.timeMs), ms, '+0000']);
    const { id, type: paymentType, referencedId } = a;
    const { brand: paymentBrand, details: resultDetails, card } = a.card;
    const descriptor = paymentType !== 'CB' && paymentType !== 'RI' ? this.ids.descriptor() : undefined;
    // The common shapes as one literal each: V8 then keeps every field inside the object (no separate property
    // array), which is a sizeable share of a million records. Key order is the fixture's.
    const money =
      a.amountMinor !== undefined && a.currency !== undefined && a.merchantTransactionId !== undefined;
    if (money && descriptor !== undefined) {
      const amount = wireAmount(a.amountMinor ?? 0, a.currency ?? '');
      const { currency, merchantTransactionId } = a;
      if (referencedId === undefined && (paymentType === 'DB' || paymentType === 'PA')) {
        return {
          id,
          paymentType,
          paymentBrand,
          amount,
          currency,
          descriptor,
          merchantTransactionId,
          result,
          resultDetails,
          card,
          timestamp,
        };
      }
      if (
        referencedId !== undefined &&
        paymentType !== 'DB' &&
        paymentType !== 'PA' &&
        paymentType !== '3D' &&
        paymentType !== 'RI'
      ) {
        return {
          id,
          referencedId,
          paymentType,
          paymentBrand,
          amount,
          currency,
          descriptor,
          merchantTransactionId,
          result,
          resultDetails,
          timestamp,
        };
      }
    }
    if (paymentType === 'CB' && referencedId !== undefined && !money) {
      return { id, referencedId, paymentType, paymentBrand, result, resultDetails, timestamp };
    }
    return this.generic(a, result, timestamp, descriptor);
  }

  /** Any other combination, field by field in the same order. */
  private generic(
    a: PayunityRecordArgs,
    result: unknown,
    timestamp: string,
    descriptor: string | undefined,
  ): Record<string, unknown> {
    const r: Record<string, unknown> = { id: a.id };
    if (a.referencedId !== undefined) r.referencedId = a.referencedId;
    r.paymentType = a.type;
    r.paymentBrand = a.card.brand;
    if (a.amountMinor !== undefined && a.currency !== undefined) {
      r.amount = wireAmount(a.amountMinor, a.currency);
      r.currency = a.currency;
    } else if (a.type === '3D') {
      r.amount = '30.00';
      r.currency = 'OPS';
    }
    if (descriptor !== undefined) r.descriptor = descriptor;
    if (a.merchantTransactionId !== undefined) r.merchantTransactionId = a.merchantTransactionId;
    r.result = result;
    r.resultDetails = a.card.details;
    if (a.type === 'DB' || a.type === 'PA' || a.type === '3D' || a.type === 'RI') r.card = a.card.card;
    r.timestamp = timestamp;
    return r;
  }
}

/** OPPWA amounts: decimal text with (at least) two decimals, "56.00" even for JPY. */
export function wireAmount(minor: number, currency: string): string {
  // Ticket sizes repeat a lot: one shared string per (amount, currency) instead of one per record.
  let byMinor = amountCache.get(currency);
  if (byMinor === undefined) amountCache.set(currency, (byMinor = new Map<number, string>()));
  let s = byMinor.get(minor);
  if (s === undefined) {
    const text = formatMinor(minor, currency);
    const exp = currencyExponent(currency);
    s = flat([text, exp >= 2 ? '' : exp === 0 ? '.00' : '0']);
    if (byMinor.size > 200_000) byMinor.clear();
    byMinor.set(minor, s);
  }
  return s;
}

const amountCache = new Map<string, Map<number, string>>();
