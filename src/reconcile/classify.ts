import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { RC_GM } from './pairs.js';
import { markHeld } from './held.js';
import type { MatchParams } from './params.js';
import {
  discrepancyIdSql,
  exec,
  firstLinesSql,
  lineAtSql,
  lineKeySql,
  listedSql,
  majorTextSql,
} from './sql-util.js';

// Classification (docs/matching.md, "Discrepancy types"), set-based over the scope tables. Every finding goes to
// rc_found, one row per discrepancy id; `refund_amount`/`refund_root` mark refund candidates, capped later by
// ledger.ts. Inserts use ON CONFLICT DO NOTHING in a stated order, so a key found twice keeps its first row.

export const FOUND_COLS =
  sql.raw(`id, provider, type, transaction_id, payment_id, merchant_reference, transaction_time,
  settlement_date, currency, gateway_amount, settled_amount, refund_amount, refund_root, detail`);

export async function createFound(db: Db): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_found (
      id text primary key, provider text not null, type text not null, transaction_id text not null,
      payment_id text, merchant_reference text, transaction_time timestamptz, settlement_date date, currency text,
      gateway_amount bigint, settled_amount bigint, refund_amount bigint, refund_root text, refundable bigint,
      detail text not null
    ) on commit drop`,
  );
}

/** The payment a gateway record belongs to: its root when it has one, itself for a payment, else the line's. */
const PAYMENT_ID = sql.raw(
  `coalesce(nullif(x.g_root, x.g_tid), case when x.g_kind in ('payment', 'authorization') then x.g_tid end, x.payment_id)`,
);

export async function classifyPairs(db: Db): Promise<void> {
  // One matched record, its first line: currency, then status, then amount; the first that applies wins.
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    select ${discrepancyIdSql(sql`x.provider`, sql`x.type`, sql`x.g_tid`)}, x.provider, x.type, x.g_tid, ${PAYMENT_ID},
      coalesce(x.g_ref, x.ref), x.g_time, x.settlement_date, coalesce(x.g_currency, x.currency), x.g_amount,
      -- The row has one currency, the gateway's: a gross in another currency is not shown as an amount in it.
      case when x.type <> 'currency_mismatch' then x.gross end,
      case when x.type = 'status_mismatch' and x.gross > 0 then x.gross
           when x.type = 'amount_mismatch' and x.kind = 'payment' and x.g_kind = 'payment' and x.gross > x.g_amount
             then x.gross - x.g_amount end,
      x.g_root,
      ${lineAtSql(sql`x.kind`, sql`x.file_id`, sql`x.line_no`)} || case x.type
        when 'currency_mismatch' then format('gateway currency %s, settled %s', x.g_currency,
          ${majorTextSql(sql`x.gross`, sql`x.currency`)})
        when 'status_mismatch' then format('settled as %s, but the gateway says %s',
          case when x.kind = 'refund' then 'refunded' else 'paid' end,
          case when x.g_reversed then 'reversed' when x.g_kind = 'authorization' and x.g_status in ('succeeded', 'review')
               then 'authorized (PA), never captured' else x.g_status end)
        else 'settled gross differs from the gateway amount'
      end
    from (
      select gm.*, case
        when gm.g_currency is not null and gm.g_currency <> gm.currency then 'currency_mismatch'
        when gm.kind = 'payment' and gm.g_kind = 'payment'
          and (gm.g_status in ('failed', 'cancelled', 'requires_capture') or gm.g_reversed) then 'status_mismatch'
        -- A PA moves no money until its CP: a line naming it settles the capture, if there is one.
        when gm.kind = 'payment' and gm.g_kind = 'authorization'
          and (gm.g_status in ('failed', 'cancelled') or gm.g_reversed
               or gm.g_status in ('succeeded', 'review') and not exists (select 1 from gateway_transactions c
                              where c.provider = gm.provider and c.root_payment_id = gm.g_tid
                                and c.referenced_id is not null and c.kind = 'payment'
                                and c.status in ('succeeded', 'review'))) then 'status_mismatch'
        -- Money went back to the shopper for a refund the gateway says did not happen.
        when gm.kind = 'refund' and gm.g_kind = 'refund' and gm.g_status in ('failed', 'cancelled') then 'status_mismatch'
        when gm.g_amount is not null and gm.gross <> gm.g_amount then 'amount_mismatch'
      end as type
      from ${RC_GM} gm
    ) x
    where x.type is not null
    order by x.provider, x.g_tid, x.g_type
    on conflict (id) do nothing`,
  );

  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    with lines as (
      -- Each duplicated record's lines, named (the first five): rc_dup is small, rc_pair is read once.
      select p.provider, p.g_tid, p.g_type,
        ${firstLinesSql(
          sql`format('%s line %s of %s', p.kind, p.line_no, f.file_name)`,
          sql`p.settlement_date, f.file_name, p.line_no`,
        )} as named
      from rc_pair p join rc_dup d on d.provider = p.provider and d.g_tid = p.g_tid and d.g_type = p.g_type
      join settlement_files f on f.id = p.file_id
      group by p.provider, p.g_tid, p.g_type
    )
    select ${discrepancyIdSql(sql`x.provider`, sql`'duplicate_settlement'`, sql`x.g_tid`)}, x.provider,
      'duplicate_settlement', x.g_tid, ${PAYMENT_ID}, coalesce(x.g_ref, x.ref), x.g_time, x.settlement_date,
      coalesce(x.g_currency, x.currency), x.g_amount, x.sum_gross, null, null,
      format('one gateway transaction on %s settlement lines: %s', x.n, ${listedSql(sql`l.named`, sql`x.n`)})
    from ${RC_GM} x
    left join lines l on l.provider = x.provider and l.g_tid = x.g_tid and l.g_type = x.g_type
    where x.n > 1
    order by x.provider, x.g_tid, x.g_type
    on conflict (id) do nothing`,
  );
}

/**
 * Expected movements without a settlement line: awaiting before their deadline, missing after it, unless a file that
 * could hold their line was left unloaded by this run's fetch (held.ts): then still awaiting, saying why.
 */
export async function classifyUnmatched(db: Db, p: MatchParams): Promise<void> {
  await exec(
    db,
    sql`
    create temp table rc_unmatched on commit drop as
    select g.provider, g.transaction_id, g.gateway_type, g.kind, g.merchant_reference, g.currency, g.amount,
      g.transaction_time, g.root, g.local_date, c.deadline,
      null::text as held_file, null::date as held_date, null::text as held_reason
    from rc_g g join rc_cal c on c.provider = g.provider and c.local_date = g.local_date
    where g.expected
      and not exists (select 1 from rc_pair m
                      where m.provider = g.provider and m.g_tid = g.transaction_id and m.g_type = g.gateway_type)`,
  );
  await markHeld(db, p);
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    select ${discrepancyIdSql(sql`x.provider`, sql`'missing_in_settlement'`, sql`x.transaction_id`)}, x.provider,
      'missing_in_settlement', x.transaction_id,
      coalesce(nullif(x.root, x.transaction_id), case when x.kind = 'payment' then x.transaction_id end),
      x.merchant_reference, x.transaction_time, null, x.currency, x.amount, null, null, null,
      format('%s (%s) not settled; due by %s', x.kind, x.gateway_type, x.deadline)
    from rc_unmatched x where x.deadline < ${p.asOf}::date and x.held_file is null
    order by x.provider, x.transaction_id, x.gateway_type
    on conflict (id) do nothing`,
  );

  // Lines no key matched. Their unknown ids were looked up at the gateway before this transaction began. Lines of
  // one key (one transaction id, or one merchant reference without ids) are one row: the first line's, with what
  // settled under the key in its currency, and the lines named in Detail (the first five).
  const key = lineKeySql(sql`p.tid`, sql`p.ref`, sql`f.file_name`, sql`p.line_no`);
  const lineText = sql`format('%s line %s of %s (%s)', u.kind, u.line_no, u.file_name,
    ${majorTextSql(sql`u.gross`, sql`u.currency`)})`;
  await exec(
    db,
    sql`
    insert into rc_found (${FOUND_COLS})
    with u as (
      select p.*, f.file_name, ${key} as key
      from rc_pair p join settlement_files f on f.id = p.file_id
      where p.subject and not p.ext and p.g_tid is null
    ), firsts as (
      select distinct on (u.provider, u.key) u.* from u order by u.provider, u.key, u.settlement_date, u.file_name, u.line_no
    ), many as (
      select u.provider, u.key, count(*) as n, sum(u.gross) filter (where u.currency = x.currency) as gross,
        ${firstLinesSql(lineText, sql`u.settlement_date, u.file_name, u.line_no`)} as lines
      from u join firsts x on x.provider = u.provider and x.key = u.key
      group by u.provider, u.key having count(*) > 1
    )
    select ${discrepancyIdSql(sql`x.provider`, sql`'missing_in_gateway'`, sql`x.key`)}, x.provider,
      'missing_in_gateway', x.key, x.payment_id, x.ref, x.transaction_time, x.settlement_date, x.currency, null,
      coalesce(m.gross, x.gross), null, null,
      case when m.n is null then format('%s line %s of %s: unknown at the gateway', x.kind, x.line_no, x.file_name)
        else format('%s lines unknown at the gateway: %s', m.n, ${listedSql(sql`m.lines`, sql`m.n`)}) end
    from firsts x left join many m on m.provider = x.provider and m.key = x.key
    order by x.provider, x.key
    on conflict (id) do nothing`,
  );
}
