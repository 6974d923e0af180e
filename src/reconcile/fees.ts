import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { FOUND_COLS } from './classify.js';
import type { MatchParams } from './params.js';
import { discrepancyIdSql, exec, firstLinesSql, lineKeySql, listedSql, majorTextSql } from './sql-util.js';

/**
 * fee_mismatch: a `payment` line's fee against round_half_up(gross × percent / 100) + fixed, in numeric (exact;
 * round() on numeric rounds halves away from zero, which is half up for the positive gross of a payment). A rule
 * with the record's brand wins over the currency's brand-less rule. Lines whose currency has no rule are not
 * checked. Keyed like missing_in_gateway: the line's transaction id, else `ref:<reference>`, else `line:<file>:<n>`;
 * several lines of one key are one finding, as there.
 */
export async function classifyFees(db: Db, p: MatchParams): Promise<void> {
  if (p.fees.provider.length === 0) return;
  const f = p.fees;
  const ruleText = sql`format('%s%% + %s, tolerance %s', x.percent, ${majorTextSql(sql`x.fixed`, sql`x.currency`)},
    ${majorTextSql(sql`x.tolerance`, sql`x.currency`)})`;
  const lineText = sql`format('%s line %s of %s (fee %s, expected %s)', o.kind, o.line_no, o.file_name,
    ${majorTextSql(sql`o.fee`, sql`o.currency`)}, ${majorTextSql(sql`o.expected_fee`, sql`o.currency`)})`;
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    with rules as (
      select * from unnest(${f.provider}::text[], ${f.currency}::text[], ${f.brand}::text[], ${f.percent}::numeric[],
        ${f.fixedMinor}::bigint[], ${f.toleranceMinor}::bigint[]) as t(provider, currency, brand, percent, fixed, tolerance)
    ), checked as (
      select l.*, r.percent, r.fixed, r.tolerance,
        (round(l.gross::numeric * r.percent / 100) + r.fixed)::bigint as expected_fee
      from rc_pair l
      left join rules rb on rb.provider = l.provider and rb.currency = l.currency and rb.brand = l.g_brand
      left join rules rn on rn.provider = l.provider and rn.currency = l.currency and rn.brand is null
      cross join lateral (
        select case when rb.provider is not null then rb.percent else rn.percent end as percent,
               case when rb.provider is not null then rb.fixed else rn.fixed end as fixed,
               case when rb.provider is not null then rb.tolerance else rn.tolerance end as tolerance) r
      where l.subject and not l.ext and l.kind = 'payment' and (rb.provider is not null or rn.provider is not null)
    ), off as (
      select c.*, f.file_name, ${lineKeySql(sql`c.tid`, sql`c.ref`, sql`f.file_name`, sql`c.line_no`)} as key
      from checked c join settlement_files f on f.id = c.file_id
      where abs(c.fee - c.expected_fee) > c.tolerance
    ), firsts as (
      select distinct on (o.provider, o.key) o.* from off o
      order by o.provider, o.key, o.settlement_date, o.file_id, o.line_no
    ), many as (
      -- Id-less lines under one merchant reference share a key: one finding, with the fees of all of them (in the
      -- first line's currency) and the lines named in Detail (the first five), as missing_in_gateway does.
      select o.provider, o.key, count(*) as n,
        sum(o.expected_fee) filter (where o.currency = x.currency) as expected_fee,
        sum(o.fee) filter (where o.currency = x.currency) as fee,
        ${firstLinesSql(lineText, sql`o.settlement_date, o.file_id, o.line_no`)} as lines
      from off o join firsts x on x.provider = o.provider and x.key = o.key
      group by o.provider, o.key having count(*) > 1
    )
    select ${discrepancyIdSql(sql`x.provider`, sql`'fee_mismatch'`, sql`x.key`)}, x.provider, 'fee_mismatch', x.key,
      coalesce(nullif(x.g_root, x.g_tid), x.g_tid, x.payment_id), coalesce(x.g_ref, x.ref),
      coalesce(x.g_time, x.transaction_time), x.settlement_date, x.currency, coalesce(m.expected_fee, x.expected_fee),
      coalesce(m.fee, x.fee), null, null,
      case when m.n is null then
        format('%s line %s of %s: fee differs from the schedule (%s) on a gross of %s', x.kind, x.line_no,
          x.file_name, ${ruleText}, ${majorTextSql(sql`x.gross`, sql`x.currency`)})
      else format('%s lines'' fees differ from the schedule (%s): %s', m.n, ${ruleText},
          ${listedSql(sql`m.lines`, sql`m.n`)}) end
    from firsts x left join many m on m.provider = x.provider and m.key = x.key
    order by x.provider, x.key
    on conflict (id) do nothing`,
  );
}
