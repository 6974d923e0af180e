import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { MatchParams } from './params.js';
import { exec, MATCHABLE_KINDS } from './sql-util.js';

// The scope of a run, as temporary tables of the current transaction (dropped at commit):
//   rc_prov  selected providers with their lag and earliest due transaction date
//   rc_open  open discrepancies of those providers: every one is re-checked
//   rc_l     settlement lines: `subject` ones are judged by this run (lines of the date range, lines named by an
//            open discrepancy); the others are lines elsewhere in time that settle a movement of the scope, read
//            so that late settlements and duplicates across dates are seen
//   rc_g     gateway records: movements due in or after the range start, records named by an open discrepancy,
//            and records that lines of the range name; with the signed amount and whether they are expected
//   rc_cal   settlement deadline per provider and transaction date
// Everything later joins these, never the whole history again.

/** `g` columns kept from gateway_transactions (never `raw`: it is wide and the matcher does not need it). */
const G_COLS = sql.raw(`g.provider, g.transaction_id, g.gateway_type, g.kind, g.status, g.root_payment_id, g.referenced_id,
  g.merchant_reference, g.amount_minor, g.currency, g.transaction_time, g.brand`);

export async function buildScope(db: Db, p: MatchParams): Promise<void> {
  const tz = p.timeZone;
  await exec(db, sql`
    create temp table rc_prov on commit drop as
    select * from unnest(${p.providers}::text[], ${p.lagDays}::int[], ${p.earliestDates}::date[]) as t(provider, lag, d0)`);
  await exec(db, sql`
    create temp table rc_open on commit drop as
    select id, provider, type, transaction_id from discrepancies
    where status = 'open' and provider = any (${p.providers}::text[])`);
  await exec(db, sql`analyze rc_open`);

  await buildLines(db, p);

  // A window record is one whose local transaction date lies in [d0, to]; index range on transaction_time.
  const inWindow = sql`(g.transaction_time >= (p.d0::timestamp at time zone ${tz})
    and g.transaction_time < ((${p.to}::date + 1)::timestamp at time zone ${tz}))`;
  await exec(db, sql`
    create temp table rc_g on commit drop as
    with a as (
      select ${G_COLS} from gateway_transactions g join rc_prov p on p.provider = g.provider where ${inWindow}
    ), b as (
      -- Outside the window: what open discrepancies name, and for an open duplicate_charge the payments of the
      -- same merchant reference (its first may lie outside). Driven from rc_open, a small table.
      select ${G_COLS} from gateway_transactions g join rc_prov p on p.provider = g.provider
      where not ${inWindow}
        and (g.provider, g.transaction_id) in (select provider, transaction_id from rc_open)
      union
      select ${G_COLS} from gateway_transactions g join rc_prov p on p.provider = g.provider
      where not ${inWindow} and g.kind = 'payment'
        and (g.provider, g.merchant_reference) in (
          select d.provider, d.merchant_reference from rc_open o
          join gateway_transactions d on d.provider = o.provider and d.transaction_id = o.transaction_id
          where o.type = 'duplicate_charge')
    ), ab as (
      select * from a union all select * from b
    ), c as (
      -- Records that lines of the range name but that lie outside the window (a refund today of an old sale).
      select ${G_COLS} from gateway_transactions g
      join (select distinct l.provider, l.tid from rc_l l
            where l.subject and l.tid is not null
              and not exists (select 1 from ab where ab.provider = l.provider and ab.transaction_id = l.tid)) u
        on u.provider = g.provider and u.tid = g.transaction_id
    ), allg as (
      select * from ab union all select * from c
    ), cbfix as (
      -- A chargeback without an amount takes the amount and currency of the payment it references.
      select x.provider, x.transaction_id, x.gateway_type, pay.amount_minor, pay.currency
      from allg x join gateway_transactions pay
        on pay.provider = x.provider and pay.transaction_id = coalesce(x.referenced_id, x.root_payment_id)
       and pay.kind = 'payment'
      where x.kind = 'chargeback' and x.amount_minor is null
    ), rv as (
      select distinct r.provider, r.referenced_id from gateway_transactions r
      where r.kind = 'reversal' and r.status = 'succeeded' and r.referenced_id is not null
    ), valued as (
      select x.*, coalesce(x.amount_minor, f.amount_minor) as amt, coalesce(x.currency, f.currency) as cur,
        rv.referenced_id is not null as reversed
      from allg x
      left join cbfix f on f.provider = x.provider and f.transaction_id = x.transaction_id and f.gateway_type = x.gateway_type
      left join rv on rv.provider = x.provider and rv.referenced_id = x.transaction_id and x.kind in ('payment', 'authorization')
    )
    select provider, transaction_id, gateway_type, kind, status,
      coalesce(root_payment_id, transaction_id) as root, merchant_reference,
      -- Signed as if it succeeded: + to the merchant, - to the shopper, whatever sign the record carried.
      case when kind in ('payment', 'chargeback_reversal') then abs(amt)
           when kind in ('refund', 'chargeback') then -abs(amt) end as amount,
      cur as currency, transaction_time, (transaction_time at time zone ${tz})::date as local_date, lower(brand) as brand,
      reversed,
      (not reversed and amt is not null and cur is not null
        and ((kind in ('payment', 'refund', 'chargeback_reversal') and status in ('succeeded', 'review'))
             or (kind = 'chargeback' and status = 'chargeback'))) as expected
    from valued`);

  await exec(db, sql`
    create temp table rc_cal on commit drop as
    select d.provider, d.local_date, payrecon_add_business_days(d.local_date, p.lag, ${p.holidays}::date[]) as deadline
    from (select distinct provider, local_date from rc_g) d join rc_prov p on p.provider = d.provider`);

  // Lines elsewhere in time that name a record of the scope: late settlements, and duplicates across dates.
  await exec(db, sql`
    insert into rc_l
    select ${LINE_COLS}, false, false from settlement_lines sl join settlement_files f on f.id = sl.file_id
    where f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS}
      and not (sl.settlement_date between ${p.from}::date and ${p.to}::date)
      and (sl.provider, sl.transaction_id) in (select provider, transaction_id from rc_g)
      and not exists (select 1 from rc_l x where x.id = sl.id)`);
  // Statistics on the scope tables steer the joins that follow; a small sample is enough for row counts and
  // distinct ids.
  await exec(db, sql`set local default_statistics_target = 10`);
  await exec(db, sql`analyze rc_g`);
  await exec(db, sql`analyze rc_l`);
}

const LINE_COLS = sql.raw(`sl.id, sl.provider, sl.settlement_date, sl.file_id, sl.line_no, sl.kind,
  nullif(sl.transaction_id, '') as tid, nullif(sl.merchant_reference, '') as ref, sl.payment_id, sl.transaction_time,
  sl.currency, sl.gross_minor as gross, sl.fee_minor as fee`);

/** Subject lines: the date range's, and those an open discrepancy names (by transaction id or `ref:`). */
async function buildLines(db: Db, p: MatchParams): Promise<void> {
  await exec(db, sql`
    create temp table rc_l on commit drop as
    select ${LINE_COLS}, true as subject, true as in_range
    from settlement_lines sl join settlement_files f on f.id = sl.file_id
    where f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS}
      and sl.provider = any (${p.providers}::text[]) and sl.settlement_date between ${p.from}::date and ${p.to}::date`);
  const outside = sql`f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS}
    and not (sl.settlement_date between ${p.from}::date and ${p.to}::date)
    and not exists (select 1 from rc_l x where x.id = sl.id)`;
  await exec(db, sql`
    insert into rc_l
    select distinct ${LINE_COLS}, true, false
    from rc_open o join settlement_lines sl on sl.provider = o.provider and sl.transaction_id = o.transaction_id
    join settlement_files f on f.id = sl.file_id
    where ${outside}`);
  await exec(db, sql`
    insert into rc_l
    select distinct ${LINE_COLS}, true, false
    from rc_open o join settlement_lines sl
      on sl.provider = o.provider and sl.merchant_reference = substr(o.transaction_id, 5)
    join settlement_files f on f.id = sl.file_id
    where o.transaction_id like 'ref:%' and coalesce(sl.transaction_id, '') = '' and ${outside}`);
}
