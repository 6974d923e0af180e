// The Summary's figures, each aggregated by Postgres per provider and currency (small results, read at once).
import { sql } from 'kysely';
import { CARRIED_ACTIONS, latestDecision } from '../latest-decision.js';
import { inScopeDates, type ReportScope } from '../scope.js';

export interface Figure {
  provider: string;
  currency: string | null;
  item: string;
  count: number;
  amount_minor: number | null;
}

/**
 * Gateway records of the run's dates that move money, as the matcher counts them (src/reconcile/scope.ts, "expected"):
 * signed by kind whatever sign the record carried, less partial voids, payments voided whole left out. A chargeback still
 * without an amount is valued at its payment's (matching.md), when that payment is stored.
 */
export function gatewayFigures(scope: ReportScope) {
  return sql<Figure>`
    with gw as (
      select g.provider, g.kind, coalesce(g.currency, p.currency) as currency,
        case when g.kind = 'payment' then abs(g.amount_minor) - coalesce(v.voided, 0)
             when g.kind = 'chargeback_reversal' then abs(g.amount_minor)
             else -abs(coalesce(g.amount_minor, p.amount_minor)) end as amount_minor
      from gateway_transactions g
      left join lateral (
        select p.currency, p.amount_minor from gateway_transactions p
        where g.amount_minor is null and g.kind = 'chargeback' and p.provider = g.provider and p.kind = 'payment'
          and p.transaction_id = coalesce(g.referenced_id, g.root_payment_id)
        limit 1
      ) p on true
      -- Successful RVs on a payment: a partial void lowers what is expected, a whole one leaves it out.
      left join lateral (
        select sum(abs(rv.amount_minor)) as voided, bool_or(rv.amount_minor is null) as unvalued
        from gateway_transactions rv
        where g.kind = 'payment' and rv.provider = g.provider and rv.referenced_id = g.transaction_id
          and rv.kind = 'reversal' and rv.status = 'succeeded'
      ) v on true
      where g.provider = any(${scope.providers}::text[]) and ${inScopeDates(sql`g.transaction_time`, scope)}
        and ((g.kind in ('payment', 'refund', 'chargeback_reversal') and g.status in ('succeeded', 'review'))
          or (g.kind = 'chargeback' and g.status = 'chargeback'))
        and not coalesce(v.unvalued or v.voided >= abs(g.amount_minor), false)
    )
    select provider, currency, 'expected' as item, count(*)::int as count, sum(amount_minor)::bigint as amount_minor
      from gw group by provider, currency
    union all
    select provider, currency, kind, count(*)::int, sum(amount_minor)::bigint
      from gw where kind in ('chargeback', 'chargeback_reversal') group by provider, currency, kind`.compile(
    scope.db,
  );
}

/**
 * Settlement lines of the run's dates: counts and control totals, and how many are matched. Matched is a join, not
 * an EXISTS: the planner copies an EXISTS into each aggregate that reads it, a probe of matches per line per copy
 * (2.5–2.8 s for 780,000 lines, 1.1 s as a join).
 */
export function settlementFigures(scope: ReportScope) {
  return sql<Figure>`
    with l as (
      select l.provider, l.currency, l.kind, l.gross_minor, l.fee_minor, l.net_minor,
        m.settlement_line_id is not null as matched
      from settlement_lines l join settlement_files f on f.id = l.file_id and f.status = 'loaded'
      left join matches m on m.settlement_line_id = l.id
      where l.provider = any(${scope.providers}::text[]) and l.settlement_date between ${scope.from} and ${scope.to}
    )
    select provider, currency, x.item, x.count, x.amount_minor from (
      select provider, currency,
        count(*) filter (where kind not in ('fee', 'adjustment'))::int as settled_count,
        coalesce(sum(gross_minor) filter (where kind not in ('fee', 'adjustment')), 0)::bigint as settled_gross,
        count(*) filter (where kind in ('fee', 'adjustment'))::int as other_count,
        coalesce(sum(gross_minor) filter (where kind in ('fee', 'adjustment')), 0)::bigint as other_gross,
        count(*)::int as line_count, sum(gross_minor)::bigint as gross, sum(fee_minor)::bigint as fees,
        sum(net_minor)::bigint as net,
        count(*) filter (where matched)::int as matched_count,
        coalesce(sum(gross_minor) filter (where matched), 0)::bigint as matched_gross
      from l group by provider, currency
    ) s cross join lateral (values
      ('settled', settled_count, settled_gross), ('fee_lines', other_count, other_gross),
      ('gross', line_count, gross), ('fees', line_count, fees), ('net', line_count, net),
      ('matched', matched_count, matched_gross)
    ) as x(item, count, amount_minor)`.compile(scope.db);
}

/** The run's open discrepancies by type, with the sum of their differences. */
export function discrepancyFigures(scope: ReportScope) {
  return sql<Figure>`
    select d.provider, d.currency, d.type as item, count(*)::int as count, sum(d.difference_minor)::bigint as amount_minor
    from run_discrepancies rd join discrepancies d on d.id = rd.discrepancy_id
    where rd.run_id = ${scope.runId} and rd.change <> 'closed'
    group by d.provider, d.currency, d.type`.compile(scope.db);
}

/**
 * The run's open discrepancies whose latest decision is carried (IGNORE, INVESTIGATE: the Action the Discrepancies
 * sheet starts them with), by action, with the sum of their differences. A latest REFUND is not counted: the sheet
 * does not carry it forward, and the Refund plan sheet shows what became of it.
 */
export function decisionFigures(scope: ReportScope) {
  return sql<Figure>`
    select d.provider, d.currency, dd.action as item, count(*)::int as count,
      sum(d.difference_minor)::bigint as amount_minor
    from run_discrepancies rd join discrepancies d on d.id = rd.discrepancy_id
    join lateral ${latestDecision(sql`d.id`)} dd on dd.action = any(${CARRIED_ACTIONS}::text[])
    where rd.run_id = ${scope.runId} and rd.change <> 'closed'
    group by d.provider, d.currency, dd.action`.compile(scope.db);
}

export function awaitingFigures(scope: ReportScope) {
  return sql<Figure>`
    select provider, currency, case when held_file is null then 'awaiting' else 'awaiting_held' end as item,
      count(*)::int as count, sum(amount_minor)::bigint as amount_minor
    from run_awaiting where run_id = ${scope.runId}
    group by provider, currency, held_file is null`.compile(scope.db);
}

export interface BatchRow {
  provider: string;
  currency: string;
  batch: string;
  settlement_date: string;
  files: string;
  lines: number;
  gross: number;
  fees: number;
  net: number;
  /** Lines of the batch's files that were rejected, or files whose line counts do not add up. */
  rejected: number;
  counts_off: boolean;
}

/**
 * Every settlement batch of the run's dates with its totals, read inside the report's snapshot (the batch rows tie
 * to the Summary's totals), with what makes the check informative: lines lost to rejection. A batch is in order
 * when its lines' gross minus fees equals their net and none of its files lost lines to rejection (then the paid
 * net cannot be traced to lines). The lines are summed per file first (a hash aggregate into a few hundred rows), and
 * only those rows are joined to their files and grouped by batch: grouping the lines themselves by batch name sorted
 * every line on disk (1.1–1.2 s for 780,000 lines, 0.4–0.6 s this way).
 */
export function batchRows(scope: Pick<ReportScope, 'providers' | 'from' | 'to' | 'db'>) {
  return sql<BatchRow>`
    with per_file as (
      select l.provider, l.currency, l.batch_id, l.file_id, min(l.settlement_date) as settlement_date,
        count(*) as lines, sum(l.gross_minor) as gross, sum(l.fee_minor) as fees, sum(l.net_minor) as net
      from settlement_lines l
      where l.provider = any(${scope.providers}::text[]) and l.settlement_date between ${scope.from} and ${scope.to}
      group by l.provider, l.currency, l.batch_id, l.file_id
    )
    select l.provider, l.currency, coalesce(l.batch_id, '(no batch id) ' || f.file_name) as batch,
      min(l.settlement_date) as settlement_date, string_agg(distinct f.file_name, ', ') as files,
      sum(l.lines)::int as lines, sum(l.gross)::bigint as gross, sum(l.fees)::bigint as fees,
      sum(l.net)::bigint as net,
      (select coalesce(sum(f2.rejected_count), 0)::int from settlement_files f2
        where f2.id = any(array_agg(distinct f.id))) as rejected,
      bool_or(f.line_count <> f.loaded_count + f.rejected_count) as counts_off
    from per_file l join settlement_files f on f.id = l.file_id and f.status = 'loaded'
    group by l.provider, l.currency, coalesce(l.batch_id, '(no batch id) ' || f.file_name)
    order by 1, 2, 4, 3`.compile(scope.db);
}
