import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { RC_GM } from './pairs.js';
import { FOUND_COLS } from './classify.js';
import { discrepancyIdSql, exec, lineAtSql } from './sql-util.js';

/**
 * duplicate_charge: two or more succeeded, settled payments of one provider with the same merchant reference,
 * amount and currency; every one after the first by (transaction time, id) is flagged. Members come from the
 * scope: movements from the lag window before `from` through `to`, settled = matched there. A duplicate charge is
 * a shopper charged twice for one order, minutes or hours apart; probing all stored history for every payment of
 * a range would cost an index probe per payment for a case that does not occur.
 */
export async function classifyDuplicateCharges(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    with subj as (
      select gm.provider, gm.g_tid, gm.g_type, gm.g_ref, gm.g_currency, gm.g_amount, gm.g_time, gm.g_root, gm.gross,
        gm.settlement_date, gm.kind, gm.file_id, gm.line_no
      from ${RC_GM} gm
      where gm.g_kind = 'payment' and gm.g_status in ('succeeded', 'review') and not gm.g_reversed
        and gm.g_ref is not null and gm.g_ref <> '' and gm.g_amount is not null and gm.g_currency is not null
    ), multi as (
      -- Only groups of two or more are ranked: a hash aggregate first keeps the sort small.
      select provider, g_ref, g_currency, g_amount from subj group by 1, 2, 3, 4 having count(*) > 1
    ), ranked as (
      select m.*, row_number() over w as rn, first_value(m.g_tid) over w as first_tid
      from subj m join multi using (provider, g_ref, g_currency, g_amount)
      window w as (partition by m.provider, m.g_ref, m.g_currency, m.g_amount order by m.g_time, m.g_tid, m.g_type)
    )
    select ${discrepancyIdSql(sql`x.provider`, sql`'duplicate_charge'`, sql`x.g_tid`)}, x.provider, 'duplicate_charge',
      x.g_tid, x.g_root, x.g_ref, x.g_time, x.settlement_date, x.g_currency, x.g_amount, x.gross,
      case when x.gross > 0 then x.gross end, x.g_root,
      ${lineAtSql(sql`x.kind`, sql`x.file_id`, sql`x.line_no`)}
        || format('same merchant reference, amount and currency as payment %s', x.first_tid)
    from ranked x where x.rn > 1
    order by x.provider, x.g_tid, x.g_type
    on conflict (id) do nothing`,
  );
}
