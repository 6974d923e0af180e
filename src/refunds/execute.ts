import type { ProviderName } from '../config/schema.js';
import type { GatewayClient } from '../gateways/types.js';
import type { StageContext } from '../jobs/context.js';
import { UsageError } from '../shared/errors.js';
import { formatMinor } from '../shared/money.js';
import { resolveApproval } from './approval.js';
import { assertWithinCaps } from './caps.js';
import { acquireRefundLock } from '../db/lock.js';
import { actionsByIds, paymentKey, remainingExcluding } from './repository.js';
import { lookUp, sendOne } from './send.js';
import { markApproved } from './transitions.js';
import type {
  Approval,
  ExecutedAction,
  ExecutedHow,
  ExecutionResult,
  RefundActionView,
  RefundDeps,
} from './types.js';

/**
 * Sends the approved refunds, each exactly once. An action left in `sending` or `unknown` by an earlier execution is
 * looked up at the gateway first (a read): found, it is recorded and never sent again. Then everything that can
 * refuse the batch (approval, caps, the plan still holding, what is still refundable, for the planned actions and
 * the ones the gateway does not have alike) is checked before the first refund is sent, so a refusal sends nothing.
 */
export async function executeRefunds(
  ctx: StageContext,
  runId: number,
  approval: Approval,
  deps: RefundDeps,
): Promise<ExecutionResult> {
  const lock = await acquireRefundLock(ctx.pool, 'refunds execute');
  try {
    const { actions, source } = await resolveApproval(ctx.db, runId, approval);
    const approvedBy = deps.approvedBy ? `${source} by ${deps.approvedBy}` : source;
    const open = actions.filter((a) => a.state !== 'succeeded');
    assertWithinCaps(ctx.config, open);
    const clients = new Map<ProviderName, GatewayClient>();
    for (const p of new Set(open.map((a) => a.provider))) clients.set(p, deps.clientFor(p));

    const how = new Map<number, ExecutedHow>(
      actions.map((a) => [a.id, a.state === 'succeeded' ? 'already_succeeded' : 'not_sent']),
    );
    // In flight before: the gateway may hold the refund. Only those it has not got are sent (again).
    const toSend: RefundActionView[] = [];
    for (const action of open) {
      const client = clients.get(action.provider);
      if (!client) continue; // unreachable: every provider of `open` has a client
      const found = action.state === 'planned' ? 'not_found' : await lookUp(ctx, client, action);
      if (found === 'not_found') toSend.push(action);
      else how.set(action.id, found);
    }
    // A resend is money leaving as much as a first send: the payment may have been refunded or charged back since.
    await assertStillRefundable(ctx, toSend);

    await markApproved(
      ctx.db,
      open.map((a) => a.id),
      approvedBy,
      ctx.now(),
    );
    ctx.log.info(
      {
        approvedBy,
        toSend: open.map((a) => ({
          key: a.idempotencyKey,
          provider: a.provider,
          paymentId: a.paymentId,
          amount: formatMinor(a.amountMinor, a.currency),
          currency: a.currency,
          state: a.state,
        })),
      },
      'refunds approved',
    );
    deps.announce?.(toSend);

    let interrupted = false;
    for (const action of toSend) {
      // Between refunds is the safe point: a refund in flight is always seen through to a recorded state.
      if (ctx.signal.aborted) {
        interrupted = true;
        break;
      }
      const client = clients.get(action.provider);
      if (!client) continue; // unreachable: every provider of `open` has a client
      how.set(action.id, await sendOne(ctx, client, action));
    }

    const final = await actionsByIds(
      ctx.db,
      actions.map((a) => a.id),
    );
    const executed: ExecutedAction[] = final.map((a) => ({ ...a, how: how.get(a.id) ?? 'not_sent' }));
    const result = summarize(runId, approvedBy, executed, interrupted);
    ctx.log.info({ counts: result.counts, interrupted }, 'refunds executed');
    return result;
  } finally {
    await lock.release();
  }
}

/**
 * Last check before sending: the payments may have been refunded or charged back since the plan was made. The
 * actions to send, together, must fit in what is left on each payment apart from them.
 */
async function assertStillRefundable(ctx: StageContext, toSend: readonly RefundActionView[]): Promise<void> {
  const remaining = await remainingExcluding(ctx.db, toSend);
  const used = new Map<string, number>();
  const problems: string[] = [];
  for (const a of toSend) {
    const key = paymentKey(a.provider, a.paymentId, a.currency);
    const total = (used.get(key) ?? 0) + a.amountMinor;
    used.set(key, total);
    const left = remaining.get(key) ?? 0;
    if (total > left) {
      problems.push(
        `${a.discrepancyId}: ${formatMinor(a.amountMinor, a.currency)} ${a.currency} is more than is still refundable on ${a.provider} payment ${a.paymentId} (${formatMinor(Math.max(left, 0), a.currency)})`,
      );
    }
  }
  if (problems.length > 0) throw new UsageError(`refunds refused, nothing was sent: ${problems.join('; ')}`);
}

function summarize(
  runId: number,
  approvedBy: string,
  actions: ExecutedAction[],
  interrupted: boolean,
): ExecutionResult {
  const counts = { planned: 0, sending: 0, succeeded: 0, failed: 0, unknown: 0, cancelled: 0, sent: 0 };
  const sentMinor: Record<string, number> = {};
  for (const a of actions) {
    counts[a.state] += 1;
    if (a.how === 'sent') {
      counts.sent += 1;
      if (a.state === 'succeeded') sentMinor[a.currency] = (sentMinor[a.currency] ?? 0) + a.amountMinor;
    }
  }
  return { runId, approvedBy, actions, counts, sentMinor, interrupted };
}
