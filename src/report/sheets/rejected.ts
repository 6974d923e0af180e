// Rejected lines: every settlement line the loader refused (file, line number, reason, masked raw text), and every
// file refused as a whole, for the run's files and dates; then every gateway record a pull refused, with where it
// came from (provider API, endpoint and window) in the File column, its id and the refunds it holds at the end.
import { sql } from 'kysely';
import { date, int } from '../cells.js';
// The loader's own masking, applied again on the way out: a line stored by an older or faulty loader still never
// shows a full card number to whoever opens the workbook.
import { maskCardNumbers } from '../../shared/card-mask.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';
import { reportedRejections } from '../../gateways/rejected-store.js';

export const REJECTED_SHEET: SheetSpec = {
  name: 'Rejected lines',
  columns: [
    { header: 'Provider', width: 10 },
    { header: 'File', width: 56 },
    { header: 'Settlement date', width: 12, align: 'center' },
    { header: 'Line', width: 8, align: 'right' },
    { header: 'Reason', width: 44 },
    { header: 'Raw text (masked)', width: 80 },
    // Gateway records only (the file lines leave them empty).
    { header: 'Record ID', width: 34 },
    { header: 'Holds refunds of', width: 34 },
  ],
};

interface RejectedRow {
  provider: string;
  file_name: string;
  settlement_date: string | null;
  line_no: number | null;
  reason: string;
  raw: string | null;
}

interface RecordRow {
  provider: string;
  source: string;
  reason: string;
  raw: string;
  record_id: string | null;
  holds: string | null;
}

export async function writeRejected({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const sheet = openSheet(wb, REJECTED_SHEET, maxRows, signal);
  const q = sql<RejectedRow>`
    with files as (
      select id, provider, file_name, settlement_date, status, reject_reason from settlement_files f
      where provider = any(${scope.providers}::text[]) and status <> 'superseded'
        and (run_id = ${scope.runId} or settlement_date between ${scope.from} and ${scope.to})
        -- a delivery refused whole by an earlier run is no longer news once that file's path is loaded (the good
        -- version before it, or a good one since); this run's own refusals are always shown
        and not (status = 'rejected' and run_id is distinct from ${scope.runId} and exists (
          select 1 from settlement_files g
          where g.provider = f.provider and g.remote_path = f.remote_path and g.status = 'loaded'))
    )
    select provider, file_name, settlement_date, line_no, reason, raw from (
      select f.provider, f.file_name, f.settlement_date, null::integer as line_no,
        'whole file rejected: ' || coalesce(f.reject_reason, 'no reason recorded') as reason, null as raw, f.id as file_id
      from files f where f.status = 'rejected'
      union all
      select f.provider, f.file_name, f.settlement_date, r.line_no, r.reason, r.raw, f.id
      from files f join rejected_lines r on r.file_id = f.id
    ) x
    order by provider, settlement_date nulls last, file_name, file_id, line_no nulls first`.compile(scope.db);
  for await (const r of snap.stream(q)) {
    await sheet.addRow([
      r.provider,
      r.file_name,
      date(r.settlement_date),
      int(r.line_no),
      r.reason,
      r.raw === null ? null : maskCardNumbers(r.raw),
    ]);
  }
  // Gateway records after the file lines: this run's rejections, and those of its dates still unresolved.
  const records = sql<RecordRow>`
    select provider,
      -- a lookup by id keeps the instant it asked as its window (from = to)
      case when window_from = window_to then
        format('%s API %s, looked up by id at %s UTC', provider, endpoint,
          to_char(window_from at time zone 'UTC', 'YYYY-MM-DD HH24:MI'))
      else format('%s API %s, window %s to %s UTC', provider, endpoint,
        to_char(window_from at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
        to_char(window_to at time zone 'UTC', 'YYYY-MM-DD HH24:MI')) end as source,
      r.reason || case when resolved_at is not null then format(' (since resolved: %s)', resolution) else '' end
        as reason,
      raw, record_id,
      case when resolved_at is not null then null
           -- released by hand (payrecon refunds release-hold): holds nothing, and says who, when and why
           when x.id is not null then format('nothing: released by %s on %s UTC (%s); it held %s', x.released_by,
             to_char(x.released_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), x.reason,
             case when hold_id is not null then 'payment ' || hold_id else 'every ' || provider || ' payment' end)
           when hold_id is not null then 'payment ' || hold_id
           else 'every ' || provider || ' payment (the record names none)' end as holds
    from rejected_records r
    left join refund_hold_releases x on x.rejected_record_id = r.id
    where ${reportedRejections(scope.runId, scope.providers, scope, scope.timeZone)}
    order by provider, window_from, endpoint, r.id`.compile(scope.db);
  for await (const r of snap.stream(records)) {
    await sheet.addRow([
      r.provider,
      r.source,
      null,
      null,
      r.reason,
      maskCardNumbers(r.raw),
      r.record_id,
      r.holds,
    ]);
  }
  sheet.close();
  return sheet.rowCount;
}
