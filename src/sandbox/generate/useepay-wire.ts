import { formatMinor } from '../../shared/money.js';
import { clockOf, dateOf } from './calendar.js';
import { flat } from './prng.js';

// UseePay V2 objects as gateways.md describes them: snake_case, amounts as JSON numbers in major units, ISO
// timestamps without milliseconds. Intent ids are 19-digit strings: kept as text end to end.

export type IntentStatus =
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'requires_capture'
  | 'requires_payment_method'
  | 'requires_customer_action'
  | 'pending';

const ERRORS = [
  {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    type: 'card_error',
  },
  {
    code: 'card_declined',
    decline_code: 'do_not_honor',
    message: 'Your card was declined.',
    type: 'card_error',
  },
  { code: 'expired_card', decline_code: null, message: 'Your card has expired.', type: 'card_error' },
  {
    code: 'incorrect_cvc',
    decline_code: null,
    message: "Your card's security code is incorrect.",
    type: 'card_error',
  },
].map((e) => Object.freeze(e));

const EMPTY = Object.freeze({});
const REDIRECT = Object.freeze({
  type: 'redirect',
  redirect: Object.freeze({ url: 'https://openapi1.uat.useepay.com/3ds/challenge' }),
});

export function isoSeconds(ms: number): string {
  return flat([dateOf(ms), 'T', clockOf(ms), 'Z']);
}

/** Major units as a JSON number: the shortest double that prints back as the exact decimal. */
export function jsonAmount(minor: number, currency: string): number {
  return Number(formatMinor(minor, currency));
}

export interface IntentArgs {
  id: string;
  merchantNo: string;
  appId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  status: IntentStatus;
  autoCapture: boolean;
  capturedMinor: number | null;
  createMs: number;
  modifyMs: number;
  errorIndex?: number;
}

export function intentRecord(a: IntentArgs): Record<string, unknown> {
  const cancelled = a.status === 'cancelled';
  return {
    id: a.id,
    merchant_no: a.merchantNo,
    app_id: a.appId,
    merchant_order_id: a.orderId,
    amount: jsonAmount(a.amountMinor, a.currency),
    currency: a.currency,
    status: a.status,
    auto_capture: a.autoCapture,
    captured_amount: a.capturedMinor === null ? null : jsonAmount(a.capturedMinor, a.currency),
    cancelled_at: cancelled ? isoSeconds(a.modifyMs) : null,
    cancellation_reason: cancelled ? 'requested_by_customer' : null,
    last_payment_error: a.status === 'failed' ? ERRORS[(a.errorIndex ?? 0) % ERRORS.length] : null,
    metadata: EMPTY,
    next_action: a.status === 'requires_customer_action' ? REDIRECT : null,
    create_at: isoSeconds(a.createMs),
    modify_at: isoSeconds(a.modifyMs),
  };
}

export interface RefundArgs {
  id: string;
  intentId: string;
  amountMinor: number;
  currency: string;
  status: 'succeeded' | 'failed';
  createMs: number;
  modifyMs: number;
  arn: string | null;
}

export function refundRecord(a: RefundArgs): Record<string, unknown> {
  return {
    id: a.id,
    payment_intent_id: a.intentId,
    amount: jsonAmount(a.amountMinor, a.currency),
    currency: a.currency,
    status: a.status,
    reason: 'requested_by_customer',
    metadata: EMPTY,
    acquirer_reference_number: a.arn,
    create_at: isoSeconds(a.createMs),
    modify_at: isoSeconds(a.modifyMs),
  };
}
