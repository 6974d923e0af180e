import type { StageContext } from '../jobs/context.js';
import { formatMinor } from '../shared/money.js';
import { summarizeCaps } from './caps.js';
import { acquireRefundLock } from '../db/lock.js';
import { cancelStalePlans, insertPlanned, liveActionsOfRun, selectCandidates } from './repository.js';
import type { HeldCandidate, PlanAction, RefundPlan, ReleasedHoldNote, SkippedCandidate } from './types.js';
import {
  holdOfAction,
  holdText,
  openHoldsQuery,
  RefundHolds,
  releasedOfAction,
  releaseText,
  type RefundHold,
} from './holds.js';

/**
 * Proposes corrective refunds for the run's open discrepancies: one `planned` action per candidate, its amount capped
 * by what is still refundable on the payment. Sends nothing. Rerunning it creates nothing new (unique keys).
 */
export async function planRefunds(ctx: StageContext, runId: number): Promise<RefundPlan> {
  const lock = await acquireRefundLock(ctx.pool, 'refunds plan');
  try {
    // Under the lock, no other plan or execution changes what is refundable between this read and the insert.
    const cancelled = await cancelStalePlans(ctx.db, ctx.now());
    if (cancelled.length > 0)
      ctx.log.warn({ cancelled }, 'planned refunds whose discrepancy changed or closed were cancelled');
    const all = await selectCandidates(ctx.db, runId);
    // A gateway record the pull rejected may be a refund or chargeback of the payment: none is proposed until a
    // later pull stores it or a person releases the hold (src/refunds/holds.ts).
    const holds = new RefundHolds((await openHoldsQuery().execute(ctx.db)).rows);
    const held: HeldCandidate[] = [];
    const released: ReleasedHoldNote[] = [];
    const note = (discrepancyId: string, list: RefundHold[]) =>
      released.push(
        ...list.map((h) => ({ discrepancyId, rejectionId: h.rejectionId, reason: releaseText(h) })),
      );
    const candidates = all.filter((c) => {
      const hold = holds.find(c.provider, c.payment_id);
      if (hold)
        held.push({ discrepancyId: c.discrepancy_id, reason: holdText(hold), rejectionId: hold.rejectionId });
      return !hold;
    });
    if (held.length > 0) ctx.log.warn({ held }, 'refund candidates held by rejected gateway records');
    const toInsert = candidates.filter((c) => c.amount > 0);
    const createdIds = new Set(await insertPlanned(ctx.db, runId, toInsert, ctx.now()));
    const skipped: SkippedCandidate[] = candidates
      .filter((c) => c.amount <= 0)
      .map((c) => ({
        discrepancyId: c.discrepancy_id,
        reason: `nothing left to refund on ${c.provider} payment ${c.payment_id} (asked ${formatMinor(c.want, c.currency)} ${c.currency})`,
      }));
    for (const c of candidates.filter((x) => x.amount <= 0))
      note(c.discrepancy_id, holds.releasedOn(c.provider, c.payment_id));
    // An action planned before the rejection is held as the candidates are (execute refuses it): listed with its
    // hold, and counted against no cap, but kept as planned so that it is sent as approved once the hold lifts.
    const actions: PlanAction[] = (await liveActionsOfRun(ctx.db, runId)).map((a) => {
      const hold = holdOfAction(holds, a);
      if (!hold) note(a.discrepancyId, releasedOfAction(holds, a));
      return { ...a, held: hold ? { rejectionId: hold.rejectionId, reason: holdText(hold) } : null };
    });
    const heldActions = actions.filter((a) => a.held !== null);
    if (heldActions.length > 0)
      ctx.log.warn(
        {
          held: heldActions.map((a) => ({
            discrepancyId: a.discrepancyId,
            rejectionId: a.held?.rejectionId,
          })),
        },
        'planned refunds held by rejected gateway records',
      );
    const created = actions.filter((a) => createdIds.has(a.id));
    const pending = actions.filter(
      (a) => a.state === 'planned' || a.state === 'sending' || a.state === 'unknown',
    );
    ctx.log.info(
      // The run's logger names the run already.
      { created: created.length, live: actions.length, skipped: skipped.length, held: heldActions.length },
      'refunds planned',
    );
    return {
      runId,
      created,
      actions,
      skipped,
      held,
      released,
      caps: summarizeCaps(
        ctx.config,
        pending.filter((a) => a.held === null),
        pending.filter((a) => a.held !== null),
      ),
      cancelled,
    };
  } finally {
    await lock.release();
  }
}
