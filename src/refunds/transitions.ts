import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { RefundState } from '../db/schema.js';
import type { RefundOutcome } from '../gateways/types.js';

// State changes of refund actions, each with its audit row in refund_attempts. Every function commits before it
// returns: the executor calls the gateway only between them, never inside a transaction.

const json = (v: unknown): string => JSON.stringify(v ?? null);

export async function markApproved(
  db: Db,
  actionIds: readonly number[],
  by: string,
  at: Date,
): Promise<void> {
  if (actionIds.length === 0) return;
  // The first approval is the one that authorised the first send: a later execution that resumes the action (after
  // a crash or a lost answer) approves it again, and must not make the record read as sent before approval.
  await db
    .updateTable('refund_actions')
    .set({ approved_by: by, approved_at: at })
    .where('id', 'in', [...actionIds])
    .where('approved_at', 'is', null)
    .execute();
}

/**
 * planned | sending | unknown -> sending, with an audit row holding the request, committed before the gateway call.
 * Returns the attempt id, or undefined when the action moved on meanwhile (then nothing may be sent).
 */
export async function beginSend(
  db: Db,
  actionId: number,
  request: unknown,
  at: Date,
): Promise<number | undefined> {
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('refund_actions')
      .set({ state: 'sending', sent_at: at, last_error: null })
      .where('id', '=', actionId)
      .where('state', 'in', ['planned', 'sending', 'unknown'])
      .returning('id')
      .executeTakeFirst();
    if (!updated) return undefined;
    const attempt = await tx
      .insertInto('refund_attempts')
      .values({
        refund_action_id: actionId,
        at,
        action: 'create',
        request: json(request),
        outcome: 'in_flight',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return attempt.id;
  });
}

export interface Settle {
  state: Extract<RefundState, 'succeeded' | 'failed' | 'unknown'>;
  gatewayRefundId?: string | null;
  error?: string | null;
  /** What is written to the audit row: the gateway's answer or the error. */
  response: unknown;
  outcome: string;
}

/** Ends a send: the attempt row gets the response, the action its new state. One transaction. */
export async function finishSend(
  db: Db,
  actionId: number,
  attemptId: number,
  s: Settle,
  at: Date,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable('refund_attempts')
      .set({ response: json(s.response), outcome: s.outcome })
      .where('id', '=', attemptId)
      .execute();
    await applyState(tx, actionId, s, at);
  });
}

/** A lookup at the gateway (recovery or verification), audited; moves the action only when `s` is given. */
export async function recordLookup(
  db: Db,
  actionId: number,
  request: unknown,
  outcome: string,
  response: unknown,
  at: Date,
  s?: Settle,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('refund_attempts')
      .values({
        refund_action_id: actionId,
        at,
        action: 'find',
        request: json(request),
        response: json(response),
        outcome,
      })
      .execute();
    if (s) await applyState(tx, actionId, s, at);
  });
}

async function applyState(tx: Db, actionId: number, s: Settle, at: Date): Promise<void> {
  await tx
    .updateTable('refund_actions')
    .set({
      state: s.state,
      gateway_refund_id: sql<string | null>`coalesce(${s.gatewayRefundId ?? null}::text, gateway_refund_id)`,
      last_error: s.error ?? null,
      finished_at: s.state === 'unknown' ? null : at,
    })
    .where('id', '=', actionId)
    .execute();
}

/**
 * What a gateway's answer about a refund means for its action: failed, or succeeded (a pending refund was accepted
 * by the gateway: it counts as succeeded here and is verified later). `outcome` labels the attempt.
 */
export function settleFromOutcome(o: RefundOutcome, outcome: string = o.state): Settle {
  if (o.state === 'failed') {
    return {
      state: 'failed',
      gatewayRefundId: o.refundId,
      error: `${o.code}: ${o.message}`,
      response: o.raw,
      outcome,
    };
  }
  return { state: 'succeeded', gatewayRefundId: o.refundId, response: o.raw, outcome };
}

export async function markVerified(db: Db, actionId: number, at: Date): Promise<void> {
  await db.updateTable('refund_actions').set({ verified_at: at }).where('id', '=', actionId).execute();
}
