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
//            movements an earlier run left awaiting that fell due before the range, and records that lines of the
//            range name; with the signed amount and whether they are expected
//   rc_cal   settlement deadline per provider and transaction date
// Everything later joins these, never the whole history again.

/**
 * The scope's view of a gateway record (never `raw`: it is wide and the matcher does not need it): the signed
 * amount as if it succeeded, + to the merchant and - to the shopper whatever sign the record carried; its local
 * transaction date; whether successful RVs reversed it whole (a partial void lowers the amount instead); whether it is
 * an expected movement (docs/matching.md).
 * Followed by a WHERE on `g` (gateway_transactions) and `p` (rc_prov).
 */
function gSelect(tz: string) {
  const WHOLE = sql.raw(`coalesce(rv.unvalued or rv.voided >= abs(g.amount_minor), false)`);
  return sql`
    select g.provider, g.transaction_id, g.gateway_type, g.kind, g.status,
      coalesce(g.root_payment_id, g.transaction_id) as root, g.referenced_id, g.merchant_reference,
      case when g.kind = 'payment' and ${WHOLE} then abs(g.amount_minor)
           when g.kind = 'payment' then abs(g.amount_minor) - coalesce(rv.voided, 0)
           when g.kind = 'chargeback_reversal' then abs(g.amount_minor)
           when g.kind in ('refund', 'chargeback') then -abs(g.amount_minor) end as amount,
      g.currency, g.transaction_time, (g.transaction_time at time zone ${tz})::date as local_date,
      lower(g.brand) as brand, ${WHOLE} as reversed,
      (not ${WHOLE} and g.amount_minor is not null and g.currency is not null
        and ((g.kind in ('payment', 'refund', 'chargeback_reversal') and g.status in ('succeeded', 'review'))
             or (g.kind = 'chargeback' and g.status = 'chargeback'))) as expected
    from gateway_transactions g join rc_prov p on p.provider = g.provider
    -- Successful RVs on a payment or authorization: a void of less than its amount cancels only that part, and what
    -- is expected to settle is the rest. An RV without an amount cancels the whole.
    left join (select r.provider, r.referenced_id, sum(abs(r.amount_minor)) as voided,
                 bool_or(r.amount_minor is null) as unvalued
               from gateway_transactions r
               where r.kind = 'reversal' and r.status = 'succeeded' and r.referenced_id is not null
               group by r.provider, r.referenced_id) rv
      on rv.provider = g.provider and rv.referenced_id = g.transaction_id and g.kind in ('payment', 'authorization')`;
}

/** How far back before a run's dates a movement an earlier run left awaiting is still carried into it. */
export const AWAITING_CARRY_DAYS = 45;

export async function buildScope(db: Db, p: MatchParams): Promise<void> {
  const tz = p.timeZone;
  // Statistics on the scope tables steer the joins that follow (some insert into a table they anti-join: without
  // row counts the planner may scan it once per row). A small sample is enough for row counts and distinct ids.
  await exec(db, sql`set local default_statistics_target = 10`);
  await exec(
    db,
    sql`
    create temp table rc_prov on commit drop as
    select t.*, (t.d0::timestamp at time zone ${tz}) as t0
    from unnest(${p.providers}::text[], ${p.lagDays}::int[], ${p.earliestDates}::date[]) as t(provider, lag, d0)`,
  );
  // Two rows; without statistics the planner sorted the whole window by provider to merge-join it with them.
  await exec(db, sql`analyze rc_prov`);
  await exec(
    db,
    sql`
    create temp table rc_open on commit drop as
    select id, provider, type, transaction_id from discrepancies
    where status = 'open' and provider = any (${p.providers}::text[])`,
  );
  await exec(db, sql`analyze rc_open`);

  await buildLines(db, p);

  // A window record is one whose local transaction date lies in [d0, to]; index range on transaction_time. t0 is
  // d0's start in the time zone, converted once per provider rather than once per row.
  const inWindow = sql`(g.transaction_time >= p.t0
    and g.transaction_time < ((${p.to}::date + 1)::timestamp at time zone ${tz}))`;
  const select = gSelect(tz);
  // One pass over the window, then small additions: each statement reads gateway_transactions once.
  await exec(db, sql`create temp table rc_g on commit drop as ${select} where ${inWindow}`);
  await exec(db, sql`analyze rc_g`);
  // Outside the window: what open discrepancies name, and for an open duplicate_charge the payments of the same
  // merchant reference (its first may lie outside). Driven from rc_open, a small table.
  await exec(
    db,
    sql`
    insert into rc_g ${select}
    where not ${inWindow} and (g.provider, g.transaction_id) in (select provider, transaction_id from rc_open)`,
  );
  await exec(
    db,
    sql`
    insert into rc_g ${select}
    where not ${inWindow} and g.kind = 'payment'
      and (g.provider, g.transaction_id) not in (select provider, transaction_id from rc_open)
      and (g.provider, g.merchant_reference) in (
        select d.provider, d.merchant_reference from rc_open o
        join gateway_transactions d on d.provider = o.provider and d.transaction_id = o.transaction_id
        where o.type = 'duplicate_charge')`,
  );
  // Movements an earlier run left awaiting whose deadline fell before this run's dates: after a night without a run,
  // or runs of `--date today`, no later window holds them, and they would never be judged. Those a line names since
  // (settled) or already missing_in_settlement are done, except one held past its deadline by a file left unloaded
  // (held.ts): its line most likely came with that file, dated before this run's dates, and is matched here (the
  // lines naming a record of the scope join below) unless a line is matched to it already. Bounded to deadlines
  // AWAITING_CARRY_DAYS back.
  await exec(
    db,
    sql`
    insert into rc_g ${select}
    where not ${inWindow} and (g.provider, g.transaction_id, g.gateway_type) in (
      select ra.provider, ra.transaction_id, ra.gateway_type from run_awaiting ra
      where ra.provider = any (${p.providers}::text[])
        and ra.deadline >= ${p.from}::date - ${AWAITING_CARRY_DAYS}::int and ra.deadline < ${p.from}::date
        and (not exists (select 1 from settlement_lines sl
                         where sl.transaction_id = ra.transaction_id and sl.provider = ra.provider)
             or ra.held_file is not null
                and not exists (select 1 from settlement_lines sl join matches m on m.settlement_line_id = sl.id
                                where sl.transaction_id = ra.transaction_id and sl.provider = ra.provider))
        and not exists (select 1 from discrepancies d where d.provider = ra.provider
                        and d.type = 'missing_in_settlement' and d.transaction_id = ra.transaction_id))
      and not exists (select 1 from rc_g x where x.provider = g.provider and x.transaction_id = g.transaction_id
                      and x.gateway_type = g.gateway_type)`,
  );
  // Records that lines of the range name but that lie outside the window (a refund today of an old sale).
  await exec(
    db,
    sql`
    insert into rc_g ${select}
    where (g.provider, g.transaction_id) in (
      select distinct l.provider, l.tid from rc_l l
      where l.subject and l.tid is not null
        and not exists (select 1 from rc_g x where x.provider = l.provider and x.transaction_id = l.tid))`,
  );
  // A chargeback without an amount takes the amount and currency of the payment it references.
  await exec(
    db,
    sql`
    update rc_g x set amount = -abs(pay.amount_minor), currency = pay.currency,
      expected = (x.status = 'chargeback' and pay.amount_minor is not null and pay.currency is not null)
    from gateway_transactions pay
    where x.kind = 'chargeback' and x.amount is null
      and pay.provider = x.provider and pay.transaction_id = coalesce(x.referenced_id, nullif(x.root, x.transaction_id))
      and pay.kind = 'payment'`,
  );

  await exec(
    db,
    sql`
    create temp table rc_cal on commit drop as
    select d.provider, d.local_date, payrecon_add_business_days(d.local_date, p.lag, ${p.holidays}::date[]) as deadline
    from (select distinct provider, local_date from rc_g) d join rc_prov p on p.provider = d.provider`,
  );

  // Lines elsewhere in time that name a record of the scope: late settlements, and duplicates across dates.
  await exec(
    db,
    sql`
    insert into rc_l
    select ${LINE_COLS}, false, false from settlement_lines sl join settlement_files f on f.id = sl.file_id
    where ${outsideRange(p)} and (sl.provider, sl.transaction_id) in (select provider, transaction_id from rc_g)`,
  );
  await exec(db, sql`analyze rc_g`);
  await exec(db, sql`analyze rc_l`);
}

const LINE_COLS = sql.raw(`sl.id, sl.provider, sl.settlement_date, sl.file_id, sl.line_no, sl.kind,
  nullif(sl.transaction_id, '') as tid, nullif(sl.merchant_reference, '') as ref, sl.payment_id, sl.transaction_time,
  sl.currency, sl.gross_minor as gross, sl.fee_minor as fee`);

/** A loaded, matchable line `sl` (of file `f`) outside the date range and not yet in rc_l. */
function outsideRange(p: MatchParams) {
  return sql`f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS}
    and not (sl.settlement_date between ${p.from}::date and ${p.to}::date)
    and not exists (select 1 from rc_l x where x.id = sl.id)`;
}

/** Subject lines: the date range's, and those an open discrepancy names (by transaction id, `ref:` or `line:`). */
async function buildLines(db: Db, p: MatchParams): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_l on commit drop as
    select ${LINE_COLS}, true as subject, true as in_range
    from settlement_lines sl join settlement_files f on f.id = sl.file_id
    where f.status = 'loaded' and sl.kind in ${MATCHABLE_KINDS}
      and sl.provider = any (${p.providers}::text[]) and sl.settlement_date between ${p.from}::date and ${p.to}::date`,
  );
  await exec(db, sql`analyze rc_l`);
  const outside = outsideRange(p);
  await exec(
    db,
    sql`
    insert into rc_l
    select distinct ${LINE_COLS}, true, false
    from rc_open o join settlement_lines sl on sl.provider = o.provider and sl.transaction_id = o.transaction_id
    join settlement_files f on f.id = sl.file_id
    where ${outside}`,
  );
  await exec(
    db,
    sql`
    insert into rc_l
    select distinct ${LINE_COLS}, true, false
    from rc_open o join settlement_lines sl
      on sl.provider = o.provider and sl.merchant_reference = substr(o.transaction_id, 5)
    join settlement_files f on f.id = sl.file_id
    where o.transaction_id like 'ref:%' and coalesce(sl.transaction_id, '') = '' and ${outside}`,
  );
  await exec(
    db,
    sql`
    insert into rc_l
    select distinct ${LINE_COLS}, true, false
    from rc_open o
    join settlement_files f
      on f.provider = o.provider and f.file_name = substring(o.transaction_id from '^line:(.*):[0-9]+$')
    join settlement_lines sl on sl.file_id = f.id and sl.line_no = substring(o.transaction_id from ':([0-9]+)$')::int
    where o.transaction_id like 'line:%' and ${outside}`,
  );
}
