import { sql } from 'kysely';
import type { ProviderName } from '../config/schema.js';
import type { StageContext } from '../jobs/context.js';
import { addBusinessDays } from '../reconcile/calendar.js';
import { todayIn } from '../shared/dates.js';
import { LockHeldError } from '../shared/errors.js';
import { acquireRefundLock, type HeldLock as RefundLock } from '../db/lock.js';
import { markVerified, recordLookup, settleFromOutcome } from './transitions.js';
import type { RefundDeps, VerifyResult } from './types.js';

/**
 * Verifies executed refunds: resolves actions a dead execution left in flight (lookup only), then checks succeeded
 * refunds at the gateway (once, by our key) and in the settlement files (a refund line whose
 * transaction id is the gateway's refund id). Returns the succeeded refunds still missing from every settlement file
 * past the provider's settlement lag. Runs call it each time; without `deps` only the settlement files are checked.
 */
export async function verifyRefunds(
  ctx: StageContext,
  deps?: Pick<RefundDeps, 'clientFor'>,
): Promise<VerifyResult> {
  const now = ctx.now();
  const result: VerifyResult = {
    resolvedInFlight: 0,
    checkedAtGateway: 0,
    verifiedAtGateway: 0,
    failedAtGateway: 0,
    settled: 0,
    overdue: [],
  };

  // Set-based: every succeeded refund that now has its settlement line gets it in one statement.
  const { rows: settled } = await sql<{ id: number }>`
    update refund_actions a set settled_line_id = l.id, verified_at = coalesce(a.verified_at, ${now})
      from (select distinct on (provider, transaction_id) id, provider, transaction_id
              from settlement_lines where kind = 'refund' and transaction_id is not null
             order by provider, transaction_id, settlement_date, id) l
     where a.state = 'succeeded' and a.settled_line_id is null and a.gateway_refund_id is not null
       and l.provider = a.provider and l.transaction_id = a.gateway_refund_id
    returning a.id`.execute(ctx.db);
  result.settled = settled.length;

  if (deps) {
    result.resolvedInFlight = await resolveInFlight(ctx, deps);
    const unverified = await ctx.db
      .selectFrom('refund_actions')
      .select(['id', 'provider', 'payment_id', 'idempotency_key'])
      .where('state', '=', 'succeeded')
      .where('verified_at', 'is', null)
      .orderBy('id')
      .execute();
    for (const a of unverified) {
      if (ctx.signal.aborted) break;
      const query = { paymentId: a.payment_id, idempotencyKey: a.idempotency_key };
      result.checkedAtGateway += 1;
      try {
        const found = await deps.clientFor(a.provider as ProviderName).findRefund(query, ctx.signal);
        if (found?.state === 'succeeded') {
          await recordLookup(ctx.db, a.id, query, 'verified', found.raw, now);
          await markVerified(ctx.db, a.id, now);
          result.verifiedAtGateway += 1;
        } else if (found?.state === 'failed') {
          // The gateway accepted the refund and later failed it: the money did not move.
          await recordLookup(ctx.db, a.id, query, 'failed_at_gateway', found.raw, now, {
            state: 'failed',
            error: `${found.code}: ${found.message}`,
            response: found.raw,
            outcome: 'failed_at_gateway',
          });
          result.failedAtGateway += 1;
        } else {
          await recordLookup(
            ctx.db,
            a.id,
            query,
            found ? 'still_pending' : 'not_found',
            found?.raw ?? null,
            now,
          );
          if (!found)
            ctx.log.warn(
              { refundAction: a.id, key: a.idempotency_key },
              'succeeded refund not found at the gateway',
            );
        }
      } catch (e) {
        ctx.log.warn(
          { refundAction: a.id, error: (e as Error).message },
          'refund verification at the gateway failed; will retry next run',
        );
      }
    }
  }

  const waiting = await ctx.db
    .selectFrom('refund_actions')
    .select([
      'id',
      'idempotency_key',
      'provider',
      'gateway_refund_id',
      'amount_minor',
      'currency',
      'finished_at',
      'sent_at',
    ])
    .where('state', '=', 'succeeded')
    .where('settled_line_id', 'is', null)
    .orderBy('id')
    .execute();
  const today = todayIn(ctx.config.timezone, now);
  for (const a of waiting) {
    const provider = a.provider as ProviderName;
    const lag = ctx.config.providers[provider]?.settlementLagDays ?? 3;
    const doneAt = a.finished_at ?? a.sent_at ?? now;
    const dueBy = addBusinessDays(todayIn(ctx.config.timezone, doneAt), lag, ctx.config.holidays);
    if (today > dueBy) {
      result.overdue.push({
        actionId: a.id,
        idempotencyKey: a.idempotency_key,
        provider,
        gatewayRefundId: a.gateway_refund_id,
        amountMinor: a.amount_minor,
        currency: a.currency.trim(),
        finishedAt: a.finished_at,
        dueBy,
      });
    }
  }
  ctx.log.info({ ...result, overdue: result.overdue.length }, 'refunds verified');
  return result;
}

/**
 * Actions a dead execution left in `sending` or `unknown` are looked up at the gateway (never sent from here), so
 * a refund that did go through is recorded without waiting for someone to execute again. Skipped while an
 * execution is running: its own outcome is on its way.
 */
async function resolveInFlight(ctx: StageContext, deps: Pick<RefundDeps, 'clientFor'>): Promise<number> {
  let lock: RefundLock;
  try {
    lock = await acquireRefundLock(ctx.pool, 'refund verification');
  } catch (e) {
    if (e instanceof LockHeldError) return 0;
    throw e;
  }
  let resolved = 0;
  try {
    const inFlight = await ctx.db
      .selectFrom('refund_actions')
      .select(['id', 'provider', 'payment_id', 'idempotency_key'])
      .where('state', 'in', ['sending', 'unknown'])
      .orderBy('id')
      .execute();
    for (const a of inFlight) {
      if (ctx.signal.aborted) break;
      const query = { paymentId: a.payment_id, idempotencyKey: a.idempotency_key };
      try {
        const found = await deps.clientFor(a.provider as ProviderName).findRefund(query, ctx.signal);
        if (!found) {
          await recordLookup(ctx.db, a.id, query, 'not_found', null, ctx.now());
          continue;
        }
        const outcome = `found_${found.state}`;
        await recordLookup(
          ctx.db,
          a.id,
          query,
          outcome,
          found.raw,
          ctx.now(),
          settleFromOutcome(found, outcome),
        );
        resolved += 1;
      } catch (e) {
        ctx.log.warn(
          { refundAction: a.id, error: (e as Error).message },
          'lookup of an in-flight refund failed; will retry next run',
        );
      }
    }
  } finally {
    await lock.release();
  }
  return resolved;
}
