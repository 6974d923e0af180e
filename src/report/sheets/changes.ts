// Changes: discrepancies opened and closed since the previous run over the same dates. With no such run, the
// changes this run recorded itself (opened, reopened, closed) against the state it started from, and those failed
// runs over the same dates recorded before it.
import { sql } from 'kysely';
import { datetime, money } from '../cells.js';
import { localTime } from '../scope.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';

export const CHANGES_SHEET: SheetSpec = {
  name: 'Changes',
  columns: [
    { header: 'Change', width: 10 },
    { header: 'Discrepancy ID', width: 19 },
    { header: 'Provider', width: 10 },
    { header: 'Type', width: 24 },
    { header: 'Transaction ID', width: 36 },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Gateway amount', width: 16, align: 'right' },
    { header: 'Settled amount', width: 16, align: 'right' },
    { header: 'Difference', width: 16, align: 'right' },
    { header: 'Opened at', width: 20, align: 'center' },
    { header: 'Closed at', width: 20, align: 'center' },
    { header: 'Reason / detail', width: 50 },
    { header: 'Compared with run', width: 10 },
  ],
};

interface ChangeRow {
  change: string;
  id: string;
  provider: string;
  type: string;
  transaction_id: string;
  currency: string | null;
  gateway_amount_minor: number | null;
  settled_amount_minor: number | null;
  difference_minor: number | null;
  opened_local: string | null;
  closed_local: string | null;
  reason: string;
  prev_run_id: number | null;
}

export async function writeChanges({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const sheet = openSheet(wb, CHANGES_SHEET, maxRows, signal);
  const tz = scope.timeZone;
  const q = sql<ChangeRow>`
    with prev as (
      select max(id) as id from runs
      where id < ${scope.runId} and from_date = ${scope.from} and to_date = ${scope.to} and status = 'succeeded'
        and providers && ${scope.providers}::text[]
    ),
    -- Without an earlier succeeded run over these dates, the changes are the ones this run recorded, and those
    -- of failed runs over the same dates before it: each provider's match commits on its own, so a night that
    -- failed after one provider's match had opened (or closed) its discrepancies, and the rerun finds them
    -- unchanged. The latest change other than 'unchanged' of those runs counts.
    failed as (
      select id from runs
      where (select id from prev) is null and id < ${scope.runId} and from_date = ${scope.from}
        and to_date = ${scope.to} and status = 'failed' and providers && ${scope.providers}::text[]
    ),
    earlier as (
      select distinct on (discrepancy_id) discrepancy_id, change from run_discrepancies
      where run_id in (select id from failed) and change <> 'unchanged'
      order by discrepancy_id, run_id desc
    ),
    own as (select discrepancy_id, change from run_discrepancies where run_id = ${scope.runId}),
    cur as (
      select coalesce(o.discrepancy_id, e.discrepancy_id) as discrepancy_id,
        case when o.change = 'unchanged' and e.change <> 'closed' then e.change else coalesce(o.change, e.change) end
          as change
      from own o full join earlier e on e.discrepancy_id = o.discrepancy_id
      -- a change of a failed run that this run did not see: shown only when it still holds (closed and still so)
      where o.discrepancy_id is not null
        or (e.change = 'closed' and exists (select 1 from discrepancies d where d.id = e.discrepancy_id and d.status = 'closed'))
    ),
    prev_open as (
      select discrepancy_id from run_discrepancies where run_id = (select id from prev) and change <> 'closed'
    ),
    changed as (
      select coalesce(c.discrepancy_id, p.discrepancy_id) as id, c.change as cur_change, p.discrepancy_id is not null as was_open
      from cur c full join prev_open p on p.discrepancy_id = c.discrepancy_id
    )
    select
      case when x.cur_change = 'closed' or x.cur_change is null then 'closed'
           when x.cur_change = 'reopened' then 'reopened' else 'opened' end as change,
      d.id, d.provider, d.type, d.transaction_id, d.currency, d.gateway_amount_minor, d.settled_amount_minor,
      d.difference_minor, ${localTime(sql`d.opened_at`, tz)} as opened_local, ${localTime(sql`d.closed_at`, tz)} as closed_local,
      coalesce(case when x.cur_change = 'closed' or x.cur_change is null then d.close_reason end, d.detail) as reason,
      (select id from prev) as prev_run_id
    from changed x join discrepancies d on d.id = x.id
    where d.provider = any(${scope.providers}::text[]) and case
      when (select id from prev) is null then x.cur_change in ('opened', 'reopened', 'closed')
      else (x.cur_change in ('opened', 'reopened', 'unchanged') and not x.was_open)
        or (x.was_open and (x.cur_change = 'closed' or (x.cur_change is null and d.status = 'closed')))
    end
    order by 1 desc, d.provider, d.type, d.id`.compile(scope.db);
  for await (const r of snap.stream(q)) {
    await sheet.addRow([
      r.change,
      r.id,
      r.provider,
      r.type,
      r.transaction_id,
      r.currency,
      money(r.gateway_amount_minor, r.currency),
      money(r.settled_amount_minor, r.currency),
      money(r.difference_minor, r.currency),
      datetime(r.opened_local),
      datetime(r.closed_local),
      r.reason,
      r.prev_run_id === null ? null : String(r.prev_run_id),
    ]);
  }
  sheet.close();
  return sheet.rowCount;
}
