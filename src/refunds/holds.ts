// Refund holds: a gateway record a pull rejected (see src/gateways/reject.ts) may be a refund or chargeback of a
// payment that we then do not know about, so no corrective refund is proposed for that payment until a later pull
// stores the record (or no longer meets it). A record that names its payment holds that payment (and the root it
// belongs to); one that names nothing usable holds every refund candidate of its provider.
import { sql, type RawBuilder } from 'kysely';

/** One unresolved rejection that holds refunds. */
export interface RefundHold {
  provider: string;
  rejectionId: number;
  recordId: string | null;
  gatewayType: string | null;
  endpoint: string;
  windowFrom: string;
  /** The payment held; null: every payment of the provider. */
  holdId: string | null;
  /** The root payments of holdId as stored (a refund may reference a capture whose root is the authorization). */
  roots: string[];
  reason: string;
}

interface HoldRow {
  id: number;
  provider: string;
  endpoint: string;
  window_from: string;
  record_id: string | null;
  gateway_type: string | null;
  hold_id: string | null;
  reason: string;
  roots: string[] | null;
}

/** The unresolved rejections: few (a bad record is rare), read once and checked in memory per candidate or row. */
export function openHoldsQuery(): RawBuilder<HoldRow> {
  return sql<HoldRow>`
    select r.id, r.provider, r.endpoint, to_char(r.window_from at time zone 'UTC', 'YYYY-MM-DD') as window_from,
      r.record_id, r.gateway_type, r.hold_id, r.reason,
      (select array_agg(distinct g.root_payment_id) from gateway_transactions g
        where g.provider = r.provider and g.transaction_id = r.hold_id and g.root_payment_id is not null) as roots
      from rejected_records r where r.resolved_at is null order by r.id`;
}

/** Finds the hold on a payment, if any. */
export class RefundHolds {
  private readonly all = new Map<string, RefundHold>();
  private readonly byPayment = new Map<string, RefundHold>();

  constructor(rows: readonly HoldRow[]) {
    for (const r of rows) {
      const hold: RefundHold = {
        provider: r.provider,
        rejectionId: r.id,
        recordId: r.record_id,
        gatewayType: r.gateway_type,
        endpoint: r.endpoint,
        windowFrom: r.window_from,
        holdId: r.hold_id,
        roots: r.roots ?? [],
        reason: r.reason,
      };
      if (r.hold_id === null) {
        if (!this.all.has(r.provider)) this.all.set(r.provider, hold);
        continue;
      }
      for (const id of [r.hold_id, ...hold.roots]) {
        const key = `${r.provider}\u0000${id}`;
        if (!this.byPayment.has(key)) this.byPayment.set(key, hold);
      }
    }
  }

  get size(): number {
    return this.all.size + this.byPayment.size;
  }

  /** The hold on refunds of `paymentId` (or of the discrepancy's own transaction), if any. */
  find(provider: string, paymentId: string | null, transactionId?: string | null): RefundHold | undefined {
    for (const id of [paymentId, transactionId])
      if (id) {
        const h = this.byPayment.get(`${provider}\u0000${id}`);
        if (h) return h;
      }
    return this.all.get(provider);
  }
}

/** Why a refund is held, in one line: which record, where from, and what lifts it. */
export function holdText(h: RefundHold): string {
  const record = `${h.provider} record ${h.recordId ?? '(without id)'}${h.gatewayType ? ` (${h.gatewayType})` : ''}`;
  const what =
    h.holdId === null
      ? `it names no payment, so it may be a refund or chargeback of any ${h.provider} payment`
      : `it may be a refund or chargeback of payment ${h.holdId}`;
  return `refund held: ${record} from ${h.endpoint} of ${h.windowFrom} was rejected (${h.reason}); ${what}; lifted once a later pull stores it`;
}
