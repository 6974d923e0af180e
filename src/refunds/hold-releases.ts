// Refund holds by hand: listing which rejected gateway records hold which payments, and releasing one (a person
// decides, for a stated reason, that the record holds no refunds). The feature's Kysely code for
// refund_hold_releases; the hold rule itself is holds.ts.
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { UsageError } from '../shared/errors.js';
import { holdOfAction, holdsQuery, RefundHolds } from './holds.js';

export interface HeldRefund {
  discrepancyId: string;
  paymentId: string;
  amountMinor: number;
  currency: string;
  state: string;
}

/** One rejected gateway record as `payrecon refunds holds` lists it. */
export interface ListedHold {
  rejectionId: number;
  provider: string;
  recordId: string | null;
  gatewayType: string | null;
  endpoint: string;
  /** The pull window it came from (a lookup by id: from = to, the instant it was asked), ISO. */
  windowFrom: string;
  windowTo: string;
  reason: string;
  /** The payment it holds refunds of (and its stored roots); null: every payment of the provider. */
  paymentId: string | null;
  roots: string[];
  /** First and last met by a pull or lookup, ISO. */
  since: string;
  lastRejectedAt: string;
  /** holding: refunds of the payment wait; released: a person lifted it; resolved: a later pull did. */
  state: 'holding' | 'released' | 'resolved';
  resolvedAt: string | null;
  resolution: string | null;
  release: { by: string; at: string; reason: string } | null;
  /** The refunds planned and not done that it holds (or would hold, were it not released), by the plan's rule. */
  refunds: HeldRefund[];
}

/**
 * The unresolved rejected records, holding or released (with `all`, the resolved ones too), oldest first, each
 * with the planned refunds it keeps back.
 */
export async function listHolds(
  db: Db,
  opts: { all?: boolean; rejectionId?: number } = {},
): Promise<ListedHold[]> {
  const { rows } = await holdsQuery(
    sql<boolean>`(${opts.all === true} or r.resolved_at is null)
      and (${opts.rejectionId ?? null}::bigint is null or r.id = ${opts.rejectionId ?? null}::bigint)`,
  ).execute(db);
  if (rows.length === 0) return [];
  const { rows: actions } = await sql<{
    discrepancy_id: string;
    provider: string;
    payment_id: string;
    amount_minor: number;
    currency: string;
    state: string;
  }>`
    select discrepancy_id, provider, payment_id, amount_minor, currency, state from refund_actions
     where state in ('planned', 'sending', 'unknown')
       and provider = any(${[...new Set(rows.map((r) => r.provider))]}::text[])
     order by discrepancy_id`.execute(db);
  return rows.map((r) => {
    // The plan's own rule, on this record alone taken as holding: which of the refunds not done it keeps back.
    const alone = new RefundHolds([{ ...r, released_by: null, released_at: null, release_reason: null }]);
    const refunds = actions
      .filter((a) => holdOfAction(alone, { ...a, paymentId: a.payment_id }) !== undefined)
      .map((a) => ({
        discrepancyId: a.discrepancy_id,
        paymentId: a.payment_id,
        amountMinor: a.amount_minor,
        currency: a.currency.trim(),
        state: a.state,
      }));
    return {
      rejectionId: r.id,
      provider: r.provider,
      recordId: r.record_id,
      gatewayType: r.gateway_type,
      endpoint: r.endpoint,
      windowFrom: r.window_from_ts.toISOString(),
      windowTo: r.window_to_ts.toISOString(),
      reason: r.reason,
      paymentId: r.hold_id,
      roots: (r.roots ?? []).filter((x) => x !== r.hold_id),
      since: r.first_rejected_at.toISOString(),
      lastRejectedAt: r.last_rejected_at.toISOString(),
      state: r.resolved_at !== null ? 'resolved' : r.released_by !== null ? 'released' : 'holding',
      resolvedAt: r.resolved_at?.toISOString() ?? null,
      resolution: r.resolution,
      release:
        r.released_by !== null && r.released_at_ts !== null
          ? { by: r.released_by, at: r.released_at_ts.toISOString(), reason: r.release_reason ?? '' }
          : null,
      refunds: r.resolved_at !== null ? [] : refunds,
    };
  });
}

export interface ReleaseResult {
  /** False when it had been released before: nothing changed (the first release stays on record). */
  released: boolean;
  hold: ListedHold;
}

/**
 * Records that rejected record `rejectionId` holds no refunds, by whom, when and why. Idempotent: a second release
 * of the same record changes nothing and returns the first. A record a later pull resolved holds nothing and is
 * refused (there is nothing to release); one never rejected is refused too.
 */
export async function releaseHold(
  db: Db,
  rejectionId: number,
  release: { by: string; reason: string; at: Date },
): Promise<ReleaseResult> {
  // One statement: the record is unresolved when the release is written, whatever a concurrent pull does.
  const { rows } = await sql<{ id: number }>`
    insert into refund_hold_releases (rejected_record_id, released_by, reason, released_at)
    select r.id, ${release.by}, ${release.reason}, ${release.at} from rejected_records r
     where r.id = ${rejectionId} and r.resolved_at is null
    on conflict (rejected_record_id) do nothing
    returning id`.execute(db);
  const [hold] = await listHolds(db, { all: true, rejectionId });
  if (!hold)
    throw new UsageError(`rejected record ${rejectionId} not found (see \`payrecon refunds holds --all\`)`);
  if (rows.length === 0 && hold.release === null)
    throw new UsageError(
      `rejected record ${rejectionId} holds no refunds: ${hold.resolution ?? 'resolved'} (${hold.resolvedAt ?? ''}); nothing to release`,
    );
  return { released: rows.length > 0, hold };
}
