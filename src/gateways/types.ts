import type { ProviderName } from '../config/schema.js';
import { maskCardsInJson } from './raw-mask.js';

// The one gateway interface both clients implement. Each gateway's wire format (DTOs) stays in its own folder;
// only these domain types leave it.

/** What a record means for money. `non_money` covers PayUnity's 3D, RI, RG, CF, RD and similar. */
export type GatewayKind =
  | 'payment' // money from the shopper: PayUnity DB, CP, RB; a UseePay PaymentIntent
  | 'authorization' // PayUnity PA: reserves, moves nothing until captured
  | 'refund' // money back to the shopper: PayUnity RF, UseePay refund
  | 'chargeback' // PayUnity CB
  | 'chargeback_reversal' // PayUnity CR
  | 'reversal' // PayUnity RV: cancels the referenced PA/DB before settlement
  | 'receipt' // PayUnity RC
  | 'non_money';

export type GatewayStatus =
  | 'succeeded'
  | 'review' // success that needs manual review (000.400.0xx)
  | 'pending'
  | 'pending_long' // may change for days (800.400.5, 100.400.500)
  | 'requires_capture' // authorised, not captured (UseePay manual capture)
  | 'chargeback' // PayUnity chargeback group 000.100.2
  | 'failed'
  | 'cancelled';

export interface GatewayTransaction {
  provider: ProviderName;
  /** The gateway's id of this record (PayUnity id, UseePay intent or refund id), always text. */
  transactionId: string;
  /** The gateway's own type: PayUnity paymentType (DB, RF, …); UseePay 'payment_intent' or 'refund'. */
  gatewayType: string;
  kind: GatewayKind;
  status: GatewayStatus;
  /** The root payment: PayUnity referencedId walked to the root; UseePay payment_intent_id; itself for a root. */
  rootPaymentId: string | null;
  /** PayUnity referencedId as returned; UseePay refund's payment_intent_id. */
  referencedId: string | null;
  merchantReference: string | null;
  /**
   * Signed minor units of the money this record moves: + to the merchant, − to the shopper. For a succeeded
   * UseePay intent the captured amount. Null when the record has no amount (non-money types).
   */
  amountMinor: number | null;
  currency: string | null;
  transactionTime: Date;
  brand: string | null;
  /** PayUnity result.code; UseePay status or last_payment_error code. */
  resultCode: string | null;
  /** The record as the gateway returned it, parsed (for traceability). */
  raw: unknown;
  /**
   * The record's own text in the page the gateway sent, when a pull cut it out (see record-texts.ts): what is
   * stored as its raw JSON. Without it, `raw` is serialised again.
   */
  rawText?: string;
}

/**
 * A record's raw JSON as stored: the gateway's own text when known, with any card number inside its string values
 * masked (raw-mask.ts; nearly free for a record without a long digit run).
 */
export function rawJson(t: GatewayTransaction): string {
  return maskCardsInJson(t.rawText ?? JSON.stringify(t.raw), [t.transactionId, t.referencedId]);
}

export interface PullWindow {
  /** Inclusive start, exclusive end, UTC. */
  from: Date;
  to: Date;
}

export interface PulledPage {
  endpoint: string;
  window: PullWindow;
  records: GatewayTransaction[];
  /** Records of the page that could not be read (see reject.ts): kept apart, the rest of the page goes on. */
  rejected?: RejectedRecord[];
}

/**
 * A record a pull could not map (bad amount, no id, a time that is not one, nested too deep), kept with where it came
 * from and why (the rejected_records table) instead of failing the pull.
 */
export interface RejectedRecord {
  provider: ProviderName;
  endpoint: string;
  window: PullWindow;
  /** The record's id, when it has a usable one. */
  recordId: string | null;
  /** PayUnity paymentType; UseePay 'payment_intent' or 'refund' (from the endpoint). */
  gatewayType: string | null;
  /** The payment the record names: PayUnity referencedId, a UseePay refund's payment_intent_id. */
  referencedId: string | null;
  /**
   * The payment whose corrective refunds wait while this is unresolved: the referenced payment, or the record's own
   * id when the record is a payment. Null: the record names nothing usable, and every refund candidate of the
   * provider waits (it may be a refund or chargeback of any of them).
   */
  holdId: string | null;
  reason: string;
  /** The record's text, card numbers masked, cut to MAX_REJECTED_RAW characters. */
  raw: string;
  /** SHA-1 of the whole masked text: one row per distinct record of an endpoint's window, however often pulled. */
  rawHash: string;
}

export interface RefundRequest {
  /** The payment to refund (PayUnity DB or captured PA/CP id; UseePay PaymentIntent id). */
  paymentId: string;
  amountMinor: number;
  currency: string;
  /** Our idempotency key: PayUnity merchantTransactionId, UseePay metadata key. Unique per refund action. */
  idempotencyKey: string;
  reason: string;
}

export type RefundOutcome =
  | { state: 'succeeded' | 'pending'; refundId: string; raw: unknown }
  | { state: 'failed'; refundId: string | null; code: string; message: string; raw: unknown };

export interface GatewayClient {
  readonly provider: ProviderName;
  /** Every record created in the window, page by page (bounded memory). */
  pull(window: PullWindow, signal?: AbortSignal): AsyncIterable<PulledPage>;
  /** One transaction by id, with what is needed to value it (e.g. the payment a chargeback references). */
  lookup(transactionId: string, signal?: AbortSignal): Promise<GatewayTransaction[]>;
  /**
   * Sends one refund. Never retried blindly: a timeout or connection loss after sending throws
   * RefundUnknownError, and the caller must use findRefund before any resend.
   */
  createRefund(req: RefundRequest, signal?: AbortSignal): Promise<RefundOutcome>;
  /** The refund we sent with this idempotency key, if the gateway has it. */
  findRefund(
    req: Pick<RefundRequest, 'paymentId' | 'idempotencyKey'>,
    signal?: AbortSignal,
  ): Promise<RefundOutcome | undefined>;
}

/** The refund may or may not have reached the gateway (timeout, dropped connection after sending). */
export class RefundUnknownError extends Error {
  override name = 'RefundUnknownError';
}
