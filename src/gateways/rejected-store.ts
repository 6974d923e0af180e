// rejected_records: the gateway records a pull could not read (see reject.ts). The feature's only Kysely code.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import type { DateRange } from '../shared/dates.js';
import type { RejectedRecord } from './types.js';

/**
 * Records a day window's rejections and resolves what that pull shows is no longer a problem, in the caller's
 * transaction (the one that records the window, so the window is never claimed without them). One row per distinct
 * record text of an endpoint's window: a re-pull that meets it again stamps it and reopens it if it was resolved.
 * Resolved, with the reason why:
 * - a rejection of the same endpoint and window that this pull did not meet again: the gateway no longer sends it
 *   (the only way a record without an id can be resolved);
 * - a record whose id (and type, when known) this run has stored fine since, in any window: by `runId`, so only
 *   within a run (a `payrecon pull` outside a run resolves by the first rule alone).
 */
export async function recordRejections(
  db: Db,
  runId: number | null,
  provider: string,
  window: { from: Date; to: Date },
  endpoints: readonly string[],
  rejected: readonly RejectedRecord[],
): Promise<void> {
  const unique = new Map<string, RejectedRecord>();
  for (const r of rejected) unique.set(`${r.endpoint}\u0000${r.window.from.getTime()}\u0000${r.rawHash}`, r);
  const rows = [...unique.values()];
  if (rows.length > 0)
    await sql`
      insert into rejected_records as r (provider, endpoint, window_from, window_to, record_id, gateway_type,
        referenced_id, hold_id, reason, raw, raw_hash, first_run_id, last_run_id)
      select ${provider}, e, wf, wt, id, gt, ref, hold, reason, raw, h, ${runId}::bigint, ${runId}::bigint
        from unnest(${rows.map((r) => r.endpoint)}::text[], ${rows.map((r) => r.window.from)}::timestamptz[],
                    ${rows.map((r) => r.window.to)}::timestamptz[], ${rows.map((r) => r.recordId)}::text[],
                    ${rows.map((r) => r.gatewayType)}::text[], ${rows.map((r) => r.referencedId)}::text[],
                    ${rows.map((r) => r.holdId)}::text[], ${rows.map((r) => r.reason)}::text[],
                    ${rows.map((r) => r.raw)}::text[], ${rows.map((r) => r.rawHash)}::text[])
             as u(e, wf, wt, id, gt, ref, hold, reason, raw, h)
      on conflict (provider, endpoint, window_from, window_to, raw_hash) do update set
        reason = excluded.reason, last_run_id = coalesce(excluded.last_run_id, r.last_run_id),
        last_rejected_at = now(), resolved_at = null, resolved_run_id = null, resolution = null`.execute(db);
  await sql`
    update rejected_records r set resolved_at = now(), resolved_run_id = ${runId}::bigint,
      resolution = 'no longer in the gateway''s answer for its window'
     where r.provider = ${provider} and r.resolved_at is null and r.endpoint = any(${endpoints}::text[])
       and r.window_from = ${window.from} and r.window_to = ${window.to} and r.last_rejected_at < now()`.execute(
    db,
  );
  if (runId === null) return;
  await sql`
    update rejected_records r set resolved_at = now(), resolved_run_id = ${runId}::bigint,
      resolution = 'stored by a later pull'
     where r.provider = ${provider} and r.resolved_at is null and r.record_id is not null
       and r.last_run_id is distinct from ${runId}::bigint
       and exists (select 1 from gateway_transactions g
                    where g.provider = r.provider and g.transaction_id = r.record_id
                      and (r.gateway_type is null or g.gateway_type = r.gateway_type)
                      and g.last_seen_run_id = ${runId}::bigint)`.execute(db);
}

/**
 * The rejections a run reports (counts.rejectedRecords, the Rejected lines sheet): those this run met, and those of
 * the run's dates still unresolved. Dates are local dates in `timeZone`; a window is a UTC day, of the dates when
 * it overlaps them.
 */
export function reportedRejections(
  runId: number,
  providers: readonly string[],
  range: DateRange,
  timeZone: string,
): RawBuilder<boolean> {
  return sql<boolean>`(r.provider = any(${providers}::text[]) and (r.last_run_id = ${runId}::bigint or (
    r.resolved_at is null
    and r.window_from < (${range.to}::date + 1)::timestamp at time zone ${timeZone}
    and r.window_to > (${range.from}::date)::timestamp at time zone ${timeZone})))`;
}

export async function rejectedRecordsOf(
  db: Db,
  runId: number,
  providers: readonly string[],
  range: DateRange,
  timeZone: string,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from rejected_records r
     where ${reportedRejections(runId, providers, range, timeZone)}`.execute(db);
  return rows[0]?.n ?? 0;
}
