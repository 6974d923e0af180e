import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { FOUND_COLS } from './classify.js';
import { discrepancyIdSql, exec, majorTextSql } from './sql-util.js';

// The money on each root payment that matters to refunds: captured, refunded, charged back, and what payrecon
// has planned or sent. Read for the roots of refund-type records in scope (refund_exceeds_payment) and for the
// roots of refund candidates (the cap on refundable_minor). Few rows: only those roots, via the root index.

export async function buildLedger(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_roots on commit drop as
    select provider, root, bool_or(subject) as subject from (
      select provider, root, true as subject from rc_g
      where kind in ('refund', 'chargeback', 'chargeback_reversal') and root <> transaction_id
      union all
      select provider, transaction_id, true from rc_open where type = 'refund_exceeds_payment'
      union all
      select provider, refund_root, false from rc_found where refund_amount is not null and refund_root is not null
    ) u group by provider, root`,
  );
  await exec(
    db,
    sql`
    create temp table rc_ledger on commit drop as
    -- Each root's records by index probes (LATERAL fenced with offset 0): left to itself, the planner misjudged
    -- how many roots match and hashed the whole table, both providers' records, for each branch (1M payments:
    -- 2.0-3.6 s per provider, against tens of thousands of probes).
    with rows as (
      select r.provider, r.root, gt.transaction_id, gt.gateway_type, gt.kind, gt.status, gt.amount_minor,
        gt.currency, gt.transaction_time, gt.merchant_reference
      from rc_roots r cross join lateral (
        select gt.transaction_id, gt.gateway_type, gt.kind, gt.status, gt.amount_minor, gt.currency, gt.transaction_time,
          gt.merchant_reference
        from gateway_transactions gt
        -- The records hanging off the root (the root index holds only those); the root itself is the next branch.
        where gt.provider = r.provider and gt.root_payment_id = r.root and gt.referenced_id is not null offset 0
      ) gt
      union
      select r.provider, r.root, gt.transaction_id, gt.gateway_type, gt.kind, gt.status, gt.amount_minor,
        gt.currency, gt.transaction_time, gt.merchant_reference
      from rc_roots r cross join lateral (
        select gt.transaction_id, gt.gateway_type, gt.kind, gt.status, gt.amount_minor, gt.currency, gt.transaction_time,
          gt.merchant_reference
        from gateway_transactions gt where gt.provider = r.provider and gt.transaction_id = r.root offset 0
      ) gt
    ), valued as (
      -- What successful RVs left of each payment: a partial void cancels its part, one without an amount the whole.
      select x.*, case when x.kind = 'payment' then greatest(0, abs(x.amount_minor) - coalesce((
          select case when bool_or(v.amount_minor is null) then abs(x.amount_minor) else sum(abs(v.amount_minor)) end
          from gateway_transactions v where v.provider = x.provider and v.referenced_id = x.transaction_id
            and v.kind = 'reversal' and v.status = 'succeeded'), 0)) end as unvoided
      from rows x
    ), sums as (
      select provider, root,
        bool_or(transaction_id = root and kind in ('payment', 'authorization')) as root_exists,
        max(currency) filter (where transaction_id = root) as currency,
        min(transaction_time) filter (where transaction_id = root) as root_time,
        max(merchant_reference) filter (where transaction_id = root) as root_ref,
        coalesce(max(abs(amount_minor)) filter (where transaction_id = root and kind = 'payment'), 0) as root_amount,
        coalesce(sum(unvoided) filter (where kind = 'payment' and status in ('succeeded', 'review')), 0) as captured,
        coalesce(sum(abs(amount_minor)) filter (where kind = 'refund' and status in ('succeeded', 'review')), 0) as refunded,
        coalesce(sum(abs(amount_minor)) filter (where kind = 'refund' and status in ('pending', 'pending_long')), 0)
          as refund_pending,
        coalesce(sum(abs(amount_minor)) filter (where kind = 'chargeback' and status = 'chargeback'), 0) as cb_valued,
        count(*) filter (where kind = 'chargeback' and status = 'chargeback' and amount_minor is null) as cb_unvalued,
        coalesce(sum(abs(amount_minor)) filter (where kind = 'chargeback_reversal' and status in ('succeeded', 'review')), 0)
          as cb_reversed
      from valued group by provider, root
    ), planned as (
      -- Refunds payrecon planned or sent that the gateway's records do not show yet.
      select ra.provider, ra.payment_id as root, sum(ra.amount_minor) as amount
      from refund_actions ra join rc_roots r on r.provider = ra.provider and r.root = ra.payment_id
      where ra.state in ('planned', 'sending', 'unknown')
         or (ra.state = 'succeeded' and not exists (select 1 from gateway_transactions g
               where g.provider = ra.provider and g.transaction_id = ra.gateway_refund_id and g.kind = 'refund'))
      group by ra.provider, ra.payment_id
    )
    select s.*, s.cb_valued + s.cb_unvalued * s.root_amount as charged_back, coalesce(pl.amount, 0) as planned,
      r.subject
    from sums s join rc_roots r on r.provider = s.provider and r.root = s.root
    left join planned pl on pl.provider = s.provider and pl.root = s.root`,
  );
}

/** Refunds plus chargebacks, net of chargeback reversals, that succeeded on a payment exceed what it captured. */
export async function classifyRefundExceeds(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    select ${discrepancyIdSql(sql`x.provider`, sql`'refund_exceeds_payment'`, sql`x.root`)}, x.provider,
      'refund_exceeds_payment', x.root, x.root, x.root_ref, x.root_time, null, x.currency, x.captured,
      -(x.refunded + x.charged_back - x.cb_reversed), null, null,
      format('refunds %s and chargebacks %s (less reversals %s) exceed the captured %s',
        ${majorTextSql(sql`x.refunded`, sql`x.currency`)}, ${majorTextSql(sql`x.charged_back`, sql`x.currency`)},
        ${majorTextSql(sql`x.cb_reversed`, sql`x.currency`)}, ${majorTextSql(sql`x.captured`, sql`x.currency`)})
    from rc_ledger x
    where x.subject and x.root_exists and x.refunded + x.charged_back - x.cb_reversed > x.captured
    order by x.provider, x.root
    on conflict (id) do nothing`,
  );
}

/**
 * refundable_minor of each candidate: its refund amount, capped by what is still refundable on the root payment:
 * captured - refunded (pending ones too) - charged back (less chargeback reversals) - planned or sent by payrecon.
 * For status_mismatch the gateway captured nothing, so the settled gross stands in for "captured": that is what the
 * shopper paid.
 */
export async function capRefundable(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    update rc_found f set refundable = greatest(0, least(f.refund_amount,
      (case when f.type = 'status_mismatch' then f.settled_amount else l.captured end)
        - l.refunded - l.refund_pending - greatest(0, l.charged_back - l.cb_reversed) - l.planned))
    from rc_ledger l
    where f.refund_amount is not null and l.provider = f.provider and l.root = f.refund_root`,
  );
}
