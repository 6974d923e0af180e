import { sql, type RawBuilder } from 'kysely';
import type { ProviderName } from '../config/schema.js';
import type { Db } from '../db/connect.js';
import { latestDecision } from '../report/latest-decision.js';
import type { RefundState } from '../db/schema.js';
import { remainingRefundableSql } from './refundable-sql.js';
import { REFUND_CANDIDATE_TYPES, type RefundActionView } from './types.js';

// The refunds feature's only Kysely code. Set-based: one statement per step for the whole batch.

/** Discrepancies of a run: touched by it (run_discrepancies, not closed there) or seen by it. */
const inRun = (runId: number) => sql<boolean>`(
  d.last_seen_run_id = ${runId} or d.opened_run_id = ${runId}
  or exists (select 1 from run_discrepancies rd where rd.run_id = ${runId} and rd.discrepancy_id = d.id and rd.change <> 'closed'))`;

/** Finance's latest recorded decision on discrepancy `d` is IGNORE (`payrecon decisions import`). */
const ignoredSql = sql<boolean>`coalesce((select l.action = 'IGNORE' from ${latestDecision(sql`d.id`)} l), false)`;

/**
 * What discrepancy `d` calls for now (docs/matching.md, "Refund candidates"), before any cap: the settled gross, or for
 * an amount_mismatch what was settled over a positive gateway amount. Null or ≤ 0: nothing.
 */
export const ruleAmountSql = sql.raw(`case when d.type <> 'amount_mismatch' then d.settled_amount_minor
  when d.gateway_amount_minor > 0 then d.settled_amount_minor - d.gateway_amount_minor end`);

/**
 * Planned actions (never sent) that no longer hold: their discrepancy closed, now calls for less than planned
 * (a corrected settlement file, a rerun), or finance has since decided to IGNORE it. They are cancelled, with an
 * audit row, so that a new plan proposes what is owed now; execution refuses them in any case. Returns the
 * discrepancy ids.
 */
/** A planned refund cancelled before sending, and why. */
export interface CancelledPlan {
  discrepancyId: string;
  reason: string;
}

export async function cancelStalePlans(db: Db, at: Date): Promise<CancelledPlan[]> {
  const { rows } = await sql<{ discrepancy_id: string; last_error: string }>`
    with stale as (
      update refund_actions a set state = 'cancelled', finished_at = ${at},
        last_error = case when d.status <> 'open' then 'cancelled before sending: the discrepancy closed'
                          when ${ignoredSql} then 'cancelled before sending: finance decided IGNORE'
                          else 'cancelled before sending: the discrepancy now calls for less' end
        from discrepancies d
       where d.id = a.discrepancy_id and a.state = 'planned'
         and (d.status <> 'open' or a.amount_minor > coalesce(${ruleAmountSql}, 0) or ${ignoredSql})
      returning a.id, a.discrepancy_id, a.last_error
    ), audit as (
      insert into refund_attempts (refund_action_id, at, action, request, response, outcome)
      select id, ${at}, 'cancel', null, to_jsonb(last_error), 'cancelled' from stale
    )
    select discrepancy_id, last_error from stale order by discrepancy_id`.execute(db);
  return rows.map((r) => ({ discrepancyId: r.discrepancy_id, reason: r.last_error }));
}

export interface CandidateRow {
  discrepancy_id: string;
  type: string;
  provider: ProviderName;
  payment_id: string;
  currency: string;
  /** What the rule asks for (docs/matching.md), before the cap by what is left on the payment. */
  want: number;
  remaining: number;
  /** min(want, what is left after the candidates before it on the same payment); may be 0. */
  amount: number;
  idempotency_key: string;
}

/**
 * The run's open refund candidates without a live action, and not decided IGNORE, each with its amount. Several candidates on one payment
 * share what is left on it: in discrepancy id order, each gets min(want, left − earlier allocations), which is
 * least(cumulative want, left) − least(cumulative want before it, left).
 */
export async function selectCandidates(db: Db, runId: number): Promise<CandidateRow[]> {
  const { rows } = await candidatesQuery(runId).execute(db);
  return rows;
}

/** Discrepancy `d`'s gateway record (its payment first) as `g`: what refundCandidateSql and candidatePaymentSql read. */
export const candidateGatewayJoin = sql`left join lateral (
  select g.root_payment_id, g.kind from gateway_transactions g
   where g.provider = d.provider and g.transaction_id = d.transaction_id
   order by (g.kind = 'payment') desc limit 1) g on true`;

/** The payment a refund of discrepancy `d` is sent against. Needs `g` (candidateGatewayJoin). */
export const candidatePaymentSql = sql<string>`coalesce(d.payment_id, g.root_payment_id, d.transaction_id)`;

/**
 * Discrepancy `d` calls for a refund now (docs/matching.md, "Refund candidates"), whoever planned what: open, of a
 * candidate type (an amount_mismatch only on a payment the gateway took money for), with something to refund
 * before the cap by what is left on the payment, and not decided IGNORE. Needs `g` (candidateGatewayJoin).
 */
export const refundCandidateSql = sql<boolean>`(d.status = 'open' and d.currency is not null
  and d.type = any(${[...REFUND_CANDIDATE_TYPES]}::text[])
  and (d.type <> 'amount_mismatch' or (g.kind = 'payment' and d.gateway_amount_minor > 0))
  and coalesce((${ruleAmountSql}) > 0, false) and coalesce(d.refundable_minor > 0, true)
  and not ${ignoredSql})`;

/**
 * The payment whose refund hold (holds.ts) keeps discrepancy `d`'s refund back; null when nothing of it can be held.
 * `action`: the alias of its latest refund action (state, payment_id); needs `g` (candidateGatewayJoin).
 * - a refund planned and not yet done (planned, or sending / unknown to be looked up): the action's payment, as
 *   execute checks it (holdOfAction);
 * - a refund that succeeded: null, it is done;
 * - otherwise (none, or the last failed or was cancelled) a refund candidate: the payment a plan would refund.
 */
export function refundPaymentSql(action: string): RawBuilder<string | null> {
  const a = sql.ref(action);
  return sql<string | null>`case when ${a}.state in ('planned', 'sending', 'unknown') then ${a}.payment_id
    when ${a}.state = 'succeeded' then null
    when ${refundCandidateSql} then ${candidatePaymentSql} end`;
}

export function candidatesQuery(runId: number): RawBuilder<CandidateRow> {
  return sql<CandidateRow>`
    with cand as (
      select d.id as discrepancy_id, d.type, d.provider, d.currency, ${candidatePaymentSql} as payment_id,
             -- least() skips nulls: a rule amount that is null (nothing settled) must stay null, not become the cap
             case when r.rule is not null then least(r.rule, coalesce(d.refundable_minor, r.rule)) end::bigint as want,
             1 + (select count(*) from refund_actions x where x.discrepancy_id = d.id) as seq
        from discrepancies d
        ${candidateGatewayJoin}
        cross join lateral (select ${ruleAmountSql} as rule) r
       where ${refundCandidateSql} and ${inRun(runId)}
         and not exists (select 1 from refund_actions a where a.discrepancy_id = d.id and a.state not in ('failed', 'cancelled'))
    ),
    targets as (select distinct provider, payment_id, currency from cand where want > 0),
    remaining as (${remainingRefundableSql([])}),
    alloc as (
      select c.*, greatest(r.remaining, 0) as remaining,
             sum(c.want) over (partition by c.provider, c.payment_id, c.currency order by c.discrepancy_id
                               rows between unbounded preceding and current row) as cum
        from cand c join remaining r using (provider, payment_id, currency)
       where c.want > 0
    )
    select discrepancy_id, type, provider, payment_id, currency, want::bigint, remaining::bigint,
           (least(cum, remaining) - least(cum - want, remaining))::bigint as amount,
           'prc-' || discrepancy_id || '-' || seq as idempotency_key
      from alloc
     order by discrepancy_id`;
}

/**
 * Inserts planned actions, planned at `at` (the command's clock, like every other time it records); the unique
 * constraints make a second plan of the same discrepancy a no-op.
 */
export async function insertPlanned(
  db: Db,
  runId: number,
  rows: readonly CandidateRow[],
  at: Date,
): Promise<number[]> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await sql<{ id: number }>`
    insert into refund_actions (idempotency_key, discrepancy_id, run_id, provider, payment_id, amount_minor, currency,
      planned_at)
    select k, d, ${runId}, p, pay, amt, cur, ${at}
      from unnest(${rows.map((r) => r.idempotency_key)}::text[], ${rows.map((r) => r.discrepancy_id)}::text[],
                  ${rows.map((r) => r.provider)}::text[], ${rows.map((r) => r.payment_id)}::text[],
                  ${rows.map((r) => r.amount)}::bigint[], ${rows.map((r) => r.currency)}::text[]) as u(k, d, p, pay, amt, cur)
    on conflict do nothing
    returning id`.execute(db);
  return inserted.map((r) => r.id);
}

const viewColumns = sql`a.id, a.idempotency_key, a.discrepancy_id, d.type as discrepancy_type, a.provider, a.payment_id,
  a.amount_minor, a.currency, a.state, a.gateway_refund_id, a.last_error`;

interface ActionRow {
  id: number;
  idempotency_key: string;
  discrepancy_id: string;
  discrepancy_type: string;
  provider: ProviderName;
  payment_id: string;
  amount_minor: number;
  currency: string;
  state: RefundState;
  gateway_refund_id: string | null;
  last_error: string | null;
}

const toView = (r: ActionRow): RefundActionView => ({
  id: r.id,
  idempotencyKey: r.idempotency_key,
  discrepancyId: r.discrepancy_id,
  discrepancyType: r.discrepancy_type,
  provider: r.provider,
  paymentId: r.payment_id,
  amountMinor: r.amount_minor,
  currency: r.currency.trim(),
  state: r.state,
  gatewayRefundId: r.gateway_refund_id,
  lastError: r.last_error,
});

/** Live actions (not failed or cancelled) of the run's discrepancies, whichever run planned them. */
export async function liveActionsOfRun(db: Db, runId: number): Promise<RefundActionView[]> {
  const { rows } = await sql<ActionRow>`
    select ${viewColumns} from refund_actions a join discrepancies d on d.id = a.discrepancy_id
     where a.state not in ('failed', 'cancelled') and (a.run_id = ${runId} or ${inRun(runId)})
     order by a.discrepancy_id`.execute(db);
  return rows.map(toView);
}

export async function actionsByIds(db: Db, ids: readonly number[]): Promise<RefundActionView[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ActionRow>`
    select ${viewColumns} from refund_actions a join discrepancies d on d.id = a.discrepancy_id
     where a.id = any(${ids}::bigint[]) order by a.discrepancy_id`.execute(db);
  return rows.map(toView);
}

/** The live action of each discrepancy (at most one, by the partial unique index). */
export async function liveActionsOf(db: Db, discrepancyIds: readonly string[]): Promise<RefundActionView[]> {
  if (discrepancyIds.length === 0) return [];
  const { rows } = await sql<ActionRow>`
    select ${viewColumns} from refund_actions a join discrepancies d on d.id = a.discrepancy_id
     where a.discrepancy_id = any(${discrepancyIds}::text[]) and a.state not in ('failed', 'cancelled')
     order by a.discrepancy_id`.execute(db);
  return rows.map(toView);
}

/** What is left on each action's payment apart from the given actions themselves, keyed `provider|payment|currency`. */
export async function remainingExcluding(
  db: Db,
  actions: readonly RefundActionView[],
): Promise<Map<string, number>> {
  if (actions.length === 0) return new Map();
  const { rows } = await sql<{ provider: string; payment_id: string; currency: string; remaining: number }>`
    with targets as (
      select distinct p as provider, pay as payment_id, cur::char(3) as currency
        from unnest(${actions.map((a) => a.provider)}::text[], ${actions.map((a) => a.paymentId)}::text[],
                    ${actions.map((a) => a.currency)}::text[]) as u(p, pay, cur))
    ${remainingRefundableSql(actions.map((a) => a.id))}`.execute(db);
  return new Map(rows.map((r) => [paymentKey(r.provider, r.payment_id, r.currency.trim()), r.remaining]));
}

export const paymentKey = (provider: string, paymentId: string, currency: string): string =>
  `${provider}|${paymentId}|${currency}`;
