// Refund holds: a gateway record a pull rejected (see src/gateways/reject.ts) may be a refund or chargeback of a
// payment that we then do not know about, so no corrective refund is proposed or sent for that payment until a
// later pull stores the record (or no longer meets it), or a person releases the hold (`payrecon refunds
// release-hold`, hold-releases.ts). A record that names its payment holds that payment (and the root it belongs
// to); one that names nothing usable holds every refund of its provider.
//
// Which payment a refund concerns is decided in one place, refundPaymentSql (repository.ts): the candidate's
// payment for a refund not yet planned, the action's own for one planned. The plan, the approval and the workbook
// all look that payment up here, so none says "held" where another would not.
import { sql, type RawBuilder } from 'kysely';

/** One unresolved rejection that holds refunds (or held them until released by hand). */
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
  /** Set when a person lifted the hold: it then holds nothing. */
  release: HoldRelease | null;
}

export interface HoldRelease {
  by: string;
  /** `YYYY-MM-DD HH:MM` UTC. */
  at: string;
  reason: string;
}

export interface HoldRow {
  id: number;
  provider: string;
  endpoint: string;
  window_from: string;
  record_id: string | null;
  gateway_type: string | null;
  hold_id: string | null;
  reason: string;
  roots: string[] | null;
  released_by: string | null;
  released_at: string | null;
  release_reason: string | null;
  /** What the listing of holds (hold-releases.ts) shows besides. */
  window_from_ts: Date;
  window_to_ts: Date;
  first_rejected_at: Date;
  last_rejected_at: Date;
  resolved_at: Date | null;
  resolution: string | null;
  released_at_ts: Date | null;
}

/**
 * Rejected records with what a hold needs (the stored roots of the payment it names, any release by hand) and what
 * their listing shows; `where` filters `r` (rejected_records). Few rows: a bad record is rare.
 */
export function holdsQuery(where: RawBuilder<boolean>): RawBuilder<HoldRow> {
  return sql<HoldRow>`
    select r.id, r.provider, r.endpoint, to_char(r.window_from at time zone 'UTC', 'YYYY-MM-DD') as window_from,
      r.window_from as window_from_ts, r.window_to as window_to_ts,
      r.record_id, r.gateway_type, r.hold_id, r.reason, r.first_rejected_at, r.last_rejected_at, r.resolved_at,
      r.resolution,
      (select array_agg(distinct g.root_payment_id) from gateway_transactions g
        where g.provider = r.provider and g.transaction_id = r.hold_id and g.root_payment_id is not null) as roots,
      x.released_by, to_char(x.released_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as released_at,
      x.released_at as released_at_ts, x.reason as release_reason
      from rejected_records r left join refund_hold_releases x on x.rejected_record_id = r.id
     where ${where} order by r.id`;
}

/** The unresolved rejections, released or not: read once and checked in memory per candidate, action or row. */
export function openHoldsQuery(): RawBuilder<HoldRow> {
  return holdsQuery(sql<boolean>`r.resolved_at is null`);
}

export function toHold(r: HoldRow): RefundHold {
  return {
    provider: r.provider,
    rejectionId: r.id,
    recordId: r.record_id,
    gatewayType: r.gateway_type,
    endpoint: r.endpoint,
    windowFrom: r.window_from,
    holdId: r.hold_id,
    roots: r.roots ?? [],
    reason: r.reason,
    release:
      r.released_by !== null && r.released_at !== null
        ? { by: r.released_by, at: r.released_at, reason: r.release_reason ?? '' }
        : null,
  };
}

/** The holds on each payment, in rejection order: those that hold, and those released by hand. */
class HoldIndex {
  private readonly all = new Map<string, RefundHold[]>();
  private readonly byPayment = new Map<string, RefundHold[]>();

  add(hold: RefundHold): void {
    if (hold.holdId === null) return push(this.all, hold.provider, hold);
    for (const id of new Set([hold.holdId, ...hold.roots]))
      push(this.byPayment, key(hold.provider, id), hold);
  }

  /** A hold naming the payment comes before one of the whole provider. */
  find(provider: string, paymentId: string | null): RefundHold[] {
    return [
      ...(paymentId === null ? [] : (this.byPayment.get(key(provider, paymentId)) ?? [])),
      ...(this.all.get(provider) ?? []),
    ];
  }
}

const key = (provider: string, id: string) => `${provider}\u0000${id}`;
function push(map: Map<string, RefundHold[]>, k: string, hold: RefundHold): void {
  const list = map.get(k);
  if (list) list.push(hold);
  else map.set(k, [hold]);
}

/** Finds the hold on refunds of a payment, if any (and the released ones that would otherwise hold them). */
export class RefundHolds {
  private readonly holding = new HoldIndex();
  private readonly released = new HoldIndex();
  private count = 0;

  constructor(rows: readonly HoldRow[]) {
    for (const hold of rows.map(toHold)) {
      if (hold.release) this.released.add(hold);
      else {
        this.holding.add(hold);
        this.count += 1;
      }
    }
  }

  /** How many rejections hold refunds now (released ones excluded). */
  get size(): number {
    return this.count;
  }

  /**
   * The hold on refunds of `paymentId`, the payment a refund concerns as refundPaymentSql (repository.ts) gives it:
   * the one naming it (or its root), else one naming no payment of its provider. Null payment: only the latter.
   */
  find(provider: string, paymentId: string | null): RefundHold | undefined {
    return this.holding.find(provider, paymentId)[0];
  }

  /** The holds on that payment a person released: shown beside the refund, so finance sees why it is not held. */
  releasedOn(provider: string, paymentId: string | null): RefundHold[] {
    return this.released.find(provider, paymentId);
  }
}

function recordText(h: RefundHold): string {
  return `${h.provider} record ${h.recordId ?? '(without id)'}${h.gatewayType ? ` (${h.gatewayType})` : ''} from ${h.endpoint} of ${h.windowFrom}`;
}

/** Why a refund is held, in one line: which record, where from, and what lifts it. */
export function holdText(h: RefundHold): string {
  const what =
    h.holdId === null
      ? `it names no payment, so it may be a refund or chargeback of any ${h.provider} payment`
      : `it may be a refund or chargeback of payment ${h.holdId}`;
  return `refund held: ${recordText(h)} was rejected (${h.reason}); ${what}; lifted once a later pull stores it, or by \`payrecon refunds release-hold ${h.rejectionId} --reason …\``;
}

/** A released hold, in one line: which record, who released it, when and why. */
export function releaseText(h: RefundHold): string {
  const r = h.release;
  return `refund hold released: ${recordText(h)} (rejection ${h.rejectionId}) was released by ${r?.by ?? 'someone'} on ${r?.at ?? '?'} UTC: ${r?.reason ?? ''}`;
}

/** Refund states of an action not yet done: execute would send it (or look it up), so a hold keeps it back. */
const UNDONE: ReadonlySet<string> = new Set(['planned', 'sending', 'unknown']);

/**
 * The hold on a refund action: on its own payment, while it is not done (refundPaymentSql's rule for an action).
 * A held action stays as finance approved it (never cancelled for this) and is sent once the hold lifts.
 */
export function holdOfAction(
  holds: RefundHolds,
  a: { provider: string; paymentId: string; state: string },
): RefundHold | undefined {
  return UNDONE.has(a.state) ? holds.find(a.provider, a.paymentId) : undefined;
}

/** The released holds shown beside an action not done, under the same rule. */
export function releasedOfAction(
  holds: RefundHolds,
  a: { provider: string; paymentId: string; state: string },
): RefundHold[] {
  return UNDONE.has(a.state) ? holds.releasedOn(a.provider, a.paymentId) : [];
}
