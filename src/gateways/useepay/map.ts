// UseePay PaymentIntent and refund objects -> GatewayTransaction. Snake_case wire format stays in this folder.
import { maskCardNumbers } from '../../shared/card-mask.js';
import { GatewayError } from '../../shared/errors.js';
import { jsonNumberToMinor, parseMajorToMinor } from '../../shared/money.js';
import { usableId, type RecordIdentity } from '../reject.js';
import type { GatewayStatus, GatewayTransaction } from '../types.js';

export interface UseepayIntent {
  id: string;
  merchant_order_id?: string | null;
  amount?: number | string | null;
  captured_amount?: number | string | null;
  currency?: string;
  status?: string;
  last_payment_error?: { code?: string | null } | null;
  create_at?: string;
  created_at?: string;
  payment_method?: { card?: { brand?: string } } | null;
}

export interface UseepayRefund {
  id: string;
  payment_intent_id?: string;
  amount?: number | string | null;
  currency?: string;
  status?: string;
  metadata?: Record<string, unknown> | null;
  create_at?: string;
  created_at?: string;
}

const INTENT_STATUS: Readonly<Record<string, GatewayStatus>> = {
  succeeded: 'succeeded',
  requires_capture: 'requires_capture',
  requires_payment_method: 'pending',
  requires_customer_action: 'pending',
  pending: 'pending',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  failed: 'failed',
};

const REFUND_STATUS: Readonly<Record<string, GatewayStatus>> = {
  received: 'pending',
  accepted: 'pending',
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * A refund's status as payrecon reads it, wherever the refund comes from (a pull, or the answer to creating or
 * finding one). A status we do not know is pending: the refund exists at the gateway, and calling it failed
 * could plan it, and send it, a second time.
 */
export function useepayRefundStatus(status: string | undefined): GatewayStatus {
  return REFUND_STATUS[status ?? ''] ?? 'pending';
}

function fail(what: string, id: unknown, msg: string, cause?: unknown): GatewayError {
  return new GatewayError(`useepay ${what} ${String(id)}: ${msg}`, 'useepay', { cause });
}

function toMinor(what: string, id: string, value: unknown, currency: string): number {
  // A JSON number is the documented form; decimal text ("10.50") is tolerated and read as the decimal it is, never
  // through a float (which would also take "0x10" and "1e3").
  let minor: number | undefined;
  try {
    if (typeof value === 'number') minor = jsonNumberToMinor(value, currency);
    else if (typeof value === 'string' && value.trim() !== '') minor = parseMajorToMinor(value, currency);
  } catch (e) {
    throw fail(what, id, (e as Error).message, e);
  }
  if (minor === undefined) throw fail(what, id, `amount ${JSON.stringify(value)} is not a number`);
  return minor;
}

/** An ISO time with an offset, or without one (UseePay's times are UTC): never the host's time zone. */
const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/i;

function time(what: string, id: string, o: { create_at?: string; created_at?: string }): Date {
  const text = o.create_at ?? o.created_at;
  const d = text ? new Date(ZONED.test(text.trim()) ? text : `${text.trim()}Z`) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw fail(what, id, `create_at ${JSON.stringify(text)} is not an ISO time`);
  return d;
}

function object(v: unknown, what: string): Record<string, unknown> & { id: string } {
  if (typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string') {
    throw new GatewayError(
      `useepay returned a ${what} without id: ${JSON.stringify(v).slice(0, 200)}`,
      'useepay',
    );
  }
  return v as Record<string, unknown> & { id: string };
}

export function mapUseepayIntent(raw: unknown): GatewayTransaction {
  const o = object(raw, 'payment intent') as UseepayIntent & Record<string, unknown>;
  const currency = o.currency;
  if (!currency) throw fail('payment intent', o.id, 'no currency');
  const status = INTENT_STATUS[o.status ?? ''] ?? 'pending';
  // Money moved for a succeeded intent is what was captured; before that, the amount asked for.
  const captured = status === 'succeeded' && o.captured_amount !== null && o.captured_amount !== undefined;
  const amountMinor = toMinor('payment intent', o.id, captured ? o.captured_amount : o.amount, currency);
  // An intent takes money from the shopper: an amount below zero is no payment we can reconcile.
  if (amountMinor < 0) throw fail('payment intent', o.id, `amount ${amountMinor} (minor units) is negative`);
  return {
    provider: 'useepay',
    transactionId: o.id,
    gatewayType: 'payment_intent',
    kind: 'payment',
    status,
    rootPaymentId: o.id,
    referencedId: null,
    merchantReference: o.merchant_order_id ? maskCardNumbers(o.merchant_order_id) : null,
    amountMinor,
    currency,
    transactionTime: time('payment intent', o.id, o),
    brand: o.payment_method?.card?.brand ?? null,
    resultCode: o.last_payment_error?.code ?? o.status ?? null,
    raw,
  };
}

export function mapUseepayRefund(raw: unknown): GatewayTransaction {
  const o = object(raw, 'refund') as UseepayRefund & Record<string, unknown>;
  const currency = o.currency;
  if (!currency) throw fail('refund', o.id, 'no currency');
  const minor = toMinor('refund', o.id, o.amount, currency);
  const intent = o.payment_intent_id ?? null;
  return {
    provider: 'useepay',
    transactionId: o.id,
    gatewayType: 'refund',
    kind: 'refund',
    status: useepayRefundStatus(o.status),
    rootPaymentId: intent,
    referencedId: intent,
    merchantReference:
      typeof o.metadata?.merchant_order_id === 'string'
        ? maskCardNumbers(o.metadata.merchant_order_id)
        : null,
    amountMinor: minor === 0 ? 0 : -Math.abs(minor),
    currency,
    transactionTime: time('refund', o.id, o),
    brand: null,
    resultCode: o.status ?? null,
    raw,
  };
}

/** What an intent that could not be mapped still tells: it is a payment, and holds refunds of itself only. */
export function useepayIntentIdentity(raw: unknown): RecordIdentity {
  const recordId = usableId((raw as { id?: unknown } | null)?.id);
  return { recordId, gatewayType: 'payment_intent', referencedId: null, holdId: recordId };
}

/** A refund that could not be mapped holds refunds of its payment intent, or of every payment when it names none. */
export function useepayRefundIdentity(raw: unknown): RecordIdentity {
  const r = raw as { id?: unknown; payment_intent_id?: unknown } | null;
  const referencedId = usableId(r?.payment_intent_id);
  return { recordId: usableId(r?.id), gatewayType: 'refund', referencedId, holdId: referencedId };
}
