// Chargebacks: every chargeback and chargeback reversal of the run's dates, whether or not it matched — the
// gateway's records (with the settlement line that matched each, if any) and settlement lines no record matched.
import { sql } from 'kysely';
import { date, datetime, money } from '../cells.js';
import { inScopeDates, localTime } from '../scope.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';

export const CHARGEBACKS_SHEET: SheetSpec = {
  name: 'Chargebacks',
  columns: [
    { header: 'Provider', width: 10 },
    { header: 'Kind', width: 20 },
    { header: 'Transaction ID', width: 36 },
    { header: 'Payment ID', width: 36 },
    { header: 'Merchant reference', width: 22 },
    { header: 'Transaction time', width: 20, align: 'center' },
    { header: 'Gateway status', width: 12 },
    { header: 'Result code', width: 14 },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Gateway amount', width: 16, align: 'right' },
    { header: 'Settlement date', width: 12, align: 'center' },
    { header: 'Settled amount', width: 16, align: 'right' },
    { header: 'Settled', width: 18, align: 'center' },
  ],
};

interface ChargebackRow {
  provider: string;
  kind: string;
  transaction_id: string | null;
  payment_id: string | null;
  merchant_reference: string | null;
  transaction_local: string | null;
  status: string | null;
  result_code: string | null;
  currency: string | null;
  amount_minor: number | null;
  settlement_date: string | null;
  settled_minor: number | null;
  settled: string;
}

export async function writeChargebacks({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const sheet = openSheet(wb, CHARGEBACKS_SHEET, maxRows, signal);
  const q = sql<ChargebackRow>`
    select * from (
      select g.provider, g.kind, g.transaction_id, coalesce(g.root_payment_id, g.referenced_id) as payment_id,
        -- a chargeback record rarely repeats the merchant's reference: its payment's stands in
        coalesce(g.merchant_reference, p.merchant_reference) as merchant_reference,
        ${localTime(sql`g.transaction_time`, scope.timeZone)} as transaction_local,
        g.status, g.result_code,
        coalesce(g.currency, p.currency) as currency,
        -- signed by kind, as the matcher does; a CB without an amount takes its payment's (matching.md)
        case when g.kind = 'chargeback_reversal' then abs(g.amount_minor)
             else -abs(coalesce(g.amount_minor, p.amount_minor)) end as amount_minor,
        l.settlement_date, l.gross_minor as settled_minor,
        case when l.id is null then 'no' else 'yes' end as settled,
        g.transaction_time as sort_time
      from gateway_transactions g
      left join lateral (
        select p.currency, p.amount_minor, p.merchant_reference from gateway_transactions p
        where p.provider = g.provider and p.kind = 'payment'
          and p.transaction_id = coalesce(g.referenced_id, g.root_payment_id)
        limit 1
      ) p on true
      -- The record's first settled line: a line naming its id that was matched to it, or a line matched to it by
      -- merchant reference (each side served by an index: lines by transaction id, the partial index of
      -- reference matches).
      left join lateral (
        select x.id, x.settlement_date, x.gross_minor from (
          select sl.id, sl.settlement_date, sl.gross_minor from settlement_lines sl
          join matches m on m.settlement_line_id = sl.id
          where sl.provider = g.provider and sl.transaction_id = g.transaction_id
            and m.transaction_id = g.transaction_id and m.gateway_type = g.gateway_type
          union all
          select sl.id, sl.settlement_date, sl.gross_minor from matches m
          join settlement_lines sl on sl.id = m.settlement_line_id
          where m.match_key = 'merchant_reference' and m.provider = g.provider
            and m.transaction_id = g.transaction_id and m.gateway_type = g.gateway_type
        ) x
        order by x.settlement_date, x.id limit 1
      ) l on true
      where g.provider = any(${scope.providers}::text[]) and g.kind in ('chargeback', 'chargeback_reversal')
        and (${inScopeDates(sql`g.transaction_time`, scope)}
          -- or settled by a line of the dates, whenever the gateway dated it
          or (g.provider, g.transaction_id, g.gateway_type) in (
            select m.provider, m.transaction_id, m.gateway_type
            from settlement_lines sl join settlement_files f on f.id = sl.file_id and f.status = 'loaded'
            join matches m on m.settlement_line_id = sl.id
            where sl.provider = any(${scope.providers}::text[]) and sl.kind in ('chargeback', 'chargeback_reversal')
              and sl.settlement_date between ${scope.from} and ${scope.to}))
      union all
      select l.provider, l.kind, l.transaction_id, l.payment_id, l.merchant_reference,
        ${localTime(sql`l.transaction_time`, scope.timeZone)}, null, null, l.currency, null,
        l.settlement_date, l.gross_minor, 'no gateway record', l.transaction_time
      from settlement_lines l join settlement_files f on f.id = l.file_id and f.status = 'loaded'
      where l.provider = any(${scope.providers}::text[]) and l.kind in ('chargeback', 'chargeback_reversal')
        and l.settlement_date between ${scope.from} and ${scope.to}
        and not exists (select 1 from matches m where m.settlement_line_id = l.id)
    ) cb
    order by provider, sort_time nulls last, transaction_id`.compile(scope.db);
  for await (const r of snap.stream(q)) {
    await sheet.addRow([
      r.provider,
      r.kind,
      r.transaction_id,
      r.payment_id,
      r.merchant_reference,
      datetime(r.transaction_local),
      r.status,
      r.result_code,
      r.currency,
      money(r.amount_minor, r.currency),
      date(r.settlement_date),
      money(r.settled_minor, r.currency),
      r.settled,
    ]);
  }
  sheet.close();
  return sheet.rowCount;
}
