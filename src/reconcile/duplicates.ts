import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { RC_GM } from './pairs.js';
import { FOUND_COLS } from './classify.js';
import type { MatchParams } from './params.js';
import { discrepancyIdSql, exec } from './sql-util.js';

/**
 * duplicate_charge: two or more succeeded, settled payments of one provider with the same merchant reference,
 * amount and currency; every one after the first by (transaction time, id) is flagged, when it is in scope.
 * Members come from the scope (settled = matched there) and from stored history before the scope window (settled
 * = a stored line or match names them), so a duplicate of an older payment is still seen.
 */
export async function classifyDuplicateCharges(db: Db, p: MatchParams): Promise<void> {
  await exec(db, sql`
    insert into rc_found (${FOUND_COLS})
    with subj as (
      select gm.provider, gm.g_tid, gm.g_type, gm.g_ref, gm.g_currency, gm.g_amount, gm.g_time, gm.g_root, gm.gross,
        gm.settlement_date
      from ${RC_GM} gm
      where gm.g_kind = 'payment' and gm.g_status in ('succeeded', 'review') and not gm.g_reversed
        and gm.g_ref is not null and gm.g_ref <> '' and gm.g_amount is not null and gm.g_currency is not null
    ), earlier as (
      select gt.provider, gt.transaction_id as g_tid, gt.gateway_type as g_type, gt.merchant_reference as g_ref,
        gt.currency as g_currency, abs(gt.amount_minor) as g_amount, gt.transaction_time as g_time
      from (select distinct provider, g_ref, g_currency, g_amount from subj) k
      join rc_prov pr on pr.provider = k.provider
      join gateway_transactions gt on gt.provider = k.provider and gt.merchant_reference = k.g_ref
      where gt.transaction_time < (pr.d0::timestamp at time zone ${p.timeZone})
        and gt.kind = 'payment' and gt.status in ('succeeded', 'review')
        and gt.currency = k.g_currency and abs(gt.amount_minor) = k.g_amount
        and not exists (select 1 from rc_g x where x.provider = gt.provider and x.transaction_id = gt.transaction_id
                        and x.gateway_type = gt.gateway_type)
        and not exists (select 1 from gateway_transactions r where r.provider = gt.provider
                        and r.referenced_id = gt.transaction_id and r.kind = 'reversal' and r.status = 'succeeded')
        and (exists (select 1 from settlement_lines sl join settlement_files f on f.id = sl.file_id
                     where sl.provider = gt.provider and sl.transaction_id = gt.transaction_id and f.status = 'loaded')
             or exists (select 1 from matches m where m.provider = gt.provider and m.transaction_id = gt.transaction_id
                        and m.gateway_type = gt.gateway_type))
    ), members as (
      select provider, g_tid, g_type, g_ref, g_currency, g_amount, g_time, g_root, gross, settlement_date,
        true as subject from subj
      union all
      select provider, g_tid, g_type, g_ref, g_currency, g_amount, g_time, null, null, null, false from earlier
    ), multi as (
      -- Only groups of two or more are ranked: a hash aggregate first keeps the sort small.
      select provider, g_ref, g_currency, g_amount from members group by 1, 2, 3, 4 having count(*) > 1
    ), ranked as (
      select m.*, row_number() over w as rn, first_value(m.g_tid) over w as first_tid
      from members m join multi using (provider, g_ref, g_currency, g_amount)
      window w as (partition by m.provider, m.g_ref, m.g_currency, m.g_amount order by m.g_time, m.g_tid, m.g_type)
    )
    select ${discrepancyIdSql(sql`x.provider`, sql`'duplicate_charge'`, sql`x.g_tid`)}, x.provider, 'duplicate_charge',
      x.g_tid, x.g_root, x.g_ref, x.g_time, x.settlement_date, x.g_currency, x.g_amount, x.gross,
      case when x.gross > 0 then x.gross end, x.g_root,
      format('same merchant reference, amount and currency as payment %s', x.first_tid)
    from ranked x where x.subject and x.rn > 1
    order by x.provider, x.g_tid, x.g_type
    on conflict (id) do nothing`);
}
