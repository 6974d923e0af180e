import type { GatewayClient, RefundOutcome, RefundRequest } from '../gateways/types.js';
import type { StageContext } from '../jobs/context.js';
import { beginSend, finishSend, recordLookup, settleFromOutcome, type Settle } from './transitions.js';
import type { ExecutedHow, RefundActionView } from './types.js';

// One refund action through planned -> sending -> succeeded | failed | unknown. The gateways have no idempotency
// header, so exactly-once rests on three things: the key is stored under a unique constraint before anything is
// sent, `sending` is committed before the call, and an action that may have reached the gateway (sending, unknown)
// is looked up by its key before it is ever sent again.

/** Sends one refund: planned, or in flight before and looked up (lookUp) without being found. */
export async function sendOne(
  ctx: StageContext,
  client: GatewayClient,
  action: RefundActionView,
): Promise<ExecutedHow> {
  const log = ctx.log.child({ refundAction: action.id, key: action.idempotencyKey });
  const request: RefundRequest = {
    paymentId: action.paymentId,
    amountMinor: action.amountMinor,
    currency: action.currency,
    idempotencyKey: action.idempotencyKey,
    reason: `payrecon corrective refund: ${action.discrepancyType} ${action.discrepancyId}`,
  };
  const attemptId = await beginSend(ctx.db, action.id, request, ctx.now());
  if (attemptId === undefined) {
    log.warn({ state: action.state }, 'refund action changed state before sending; not sent');
    return 'not_sent';
  }
  let settle: Settle;
  try {
    // No abort signal: a refund request once started is seen through, so its outcome is recorded.
    settle = settleFromOutcome(await client.createRefund(request));
  } catch (e) {
    // Whatever went wrong, the refund may have been applied: `unknown`, to be looked up before any resend.
    const err = e as Error;
    settle = {
      state: 'unknown',
      error: `${err.name}: ${err.message}`,
      response: { error: err.name, message: err.message },
      outcome: 'unknown',
    };
  }
  await finishSend(ctx.db, action.id, attemptId, settle, ctx.now());
  log.info(
    { state: settle.state, gatewayRefundId: settle.gatewayRefundId, error: settle.error },
    'refund sent',
  );
  return 'sent';
}

/** Recovery: asks the gateway for the refund by our key. 'not_found' means it is safe to send. */
export async function lookUp(
  ctx: StageContext,
  client: GatewayClient,
  action: RefundActionView,
): Promise<ExecutedHow | 'not_found'> {
  const query = { paymentId: action.paymentId, idempotencyKey: action.idempotencyKey };
  let found: RefundOutcome | undefined;
  try {
    found = await client.findRefund(query);
  } catch (e) {
    // Cannot tell: never send. The next execution asks again.
    const err = e as Error;
    const error = `lookup failed: ${err.name}: ${err.message}`;
    await recordLookup(
      ctx.db,
      action.id,
      query,
      'error',
      { error: err.name, message: err.message },
      ctx.now(),
      {
        state: 'unknown',
        error,
        response: null,
        outcome: 'error',
      },
    );
    ctx.log.warn({ refundAction: action.id, error }, 'refund state unknown; not sent again');
    return 'not_sent';
  }
  if (!found) {
    await recordLookup(ctx.db, action.id, query, 'not_found', null, ctx.now());
    return 'not_found';
  }
  const settle = settleFromOutcome(found);
  await recordLookup(ctx.db, action.id, query, `found_${found.state}`, found.raw, ctx.now(), settle);
  ctx.log.info(
    { refundAction: action.id, state: settle.state, gatewayRefundId: settle.gatewayRefundId },
    'refund found at the gateway; not sent again',
  );
  return 'found_at_gateway';
}
