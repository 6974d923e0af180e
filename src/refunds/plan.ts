import type { StageContext } from '../jobs/context.js';
import { formatMinor } from '../shared/money.js';
import { summarizeCaps } from './caps.js';
import { acquireRefundLock } from '../db/lock.js';
import { cancelStalePlans, insertPlanned, liveActionsOfRun, selectCandidates } from './repository.js';
import type { HeldCandidate, RefundPlan, SkippedCandidate } from './types.js';
import { holdText, openHoldsQuery, RefundHolds } from './holds.js';

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
    // later pull stores it (src/refunds/holds.ts).
    const holds = new RefundHolds((await openHoldsQuery().execute(ctx.db)).rows);
    const held: HeldCandidate[] = [];
    const candidates = all.filter((c) => {
      const hold = holds.size === 0 ? undefined : holds.find(c.provider, c.payment_id);
      if (hold) held.push({ discrepancyId: c.discrepancy_id, reason: holdText(hold) });
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
    const actions = await liveActionsOfRun(ctx.db, runId);
    const created = actions.filter((a) => createdIds.has(a.id));
    const pending = actions.filter(
      (a) => a.state === 'planned' || a.state === 'sending' || a.state === 'unknown',
    );
    ctx.log.info(
      // The run's logger names the run already.
      { created: created.length, live: actions.length, skipped: skipped.length },
      'refunds planned',
    );
    return { runId, created, actions, skipped, held, caps: summarizeCaps(ctx.config, pending) };
  } finally {
    await lock.release();
  }
}
