// Refund plan: the corrective refunds proposed for, or executed on, the run's discrepancies, with their state, and
// for one not done yet the rejected gateway record that holds it (or held it until released by hand).
import { sql } from 'kysely';
import {
  holdOfAction,
  holdText,
  openHoldsQuery,
  RefundHolds,
  releasedOfAction,
  releaseText,
} from '../../refunds/holds.js';
import { datetime, money } from '../cells.js';
import { localTime } from '../scope.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';

export const REFUND_PLAN_SHEET: SheetSpec = {
  name: 'Refund plan',
  columns: [
    { header: 'Refund action', width: 10 },
    { header: 'Discrepancy ID', width: 19 },
    { header: 'Type', width: 20 },
    { header: 'Provider', width: 10 },
    { header: 'Payment ID', width: 36 },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Amount', width: 16, align: 'right' },
    { header: 'State', width: 10, align: 'center' },
    { header: 'Idempotency key', width: 30 },
    { header: 'Gateway refund ID', width: 36 },
    { header: 'Approved by', width: 16 },
    { header: 'Approved at', width: 20, align: 'center' },
    { header: 'Planned at', width: 20, align: 'center' },
    { header: 'Sent at', width: 20, align: 'center' },
    { header: 'Finished at', width: 20, align: 'center' },
    { header: 'Verified at', width: 20, align: 'center' },
    { header: 'Settled in', width: 40 },
    { header: 'Last error', width: 40 },
    // Still `planned` (as approved) and counted against no cap while held: `refunds execute` refuses it until then.
    { header: 'Hold', width: 60 },
  ],
};

interface RefundRow {
  id: number;
  discrepancy_id: string;
  type: string | null;
  provider: string;
  payment_id: string;
  currency: string;
  amount_minor: number;
  state: string;
  idempotency_key: string;
  gateway_refund_id: string | null;
  approved_by: string | null;
  approved_local: string | null;
  planned_local: string;
  sent_local: string | null;
  finished_local: string | null;
  verified_local: string | null;
  /**
   * The settlement line the refund was found in ("refund line 7 of FILE, settled 2026-11-20"), once it was; until
   * then, when the run found it overdue, "overdue: in no settlement file, due by 2026-11-20".
   */
  settled_in: string | null;
  last_error: string | null;
}

export async function writeRefundPlan({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const sheet = openSheet(wb, REFUND_PLAN_SHEET, maxRows, signal);
  const tz = scope.timeZone;
  const holds = new RefundHolds(await snap.all(openHoldsQuery().compile(scope.db)));
  const q = sql<RefundRow>`
    select r.id, r.discrepancy_id, d.type, r.provider, r.payment_id, r.currency, r.amount_minor, r.state,
      r.idempotency_key, r.gateway_refund_id, r.approved_by,
      ${localTime(sql`r.approved_at`, tz)} as approved_local, ${localTime(sql`r.planned_at`, tz)} as planned_local,
      ${localTime(sql`r.sent_at`, tz)} as sent_local, ${localTime(sql`r.finished_at`, tz)} as finished_local,
      ${localTime(sql`r.verified_at`, tz)} as verified_local,
      case when l.id is not null
        then format('%s line %s of %s, settled %s', l.kind, l.line_no, f.file_name, l.settlement_date)
        when od.due_by is not null
        then format('overdue: in no settlement file, due by %s', od.due_by) end
        as settled_in,
      r.last_error
    from refund_actions r
    left join discrepancies d on d.id = r.discrepancy_id
    left join settlement_lines l on l.id = r.settled_line_id
    left join settlement_files f on f.id = l.file_id
    -- What this run's check of executed refunds found overdue (Run info's refundChecks): sent, past the settlement
    -- lag, and in no settlement file. The run's own finding, so a rewritten workbook says what that run saw.
    left join lateral (
      select o ->> 'dueBy' as due_by
      from runs x cross join lateral jsonb_array_elements(
        case when jsonb_typeof(x.manifest #> '{refundChecks,overdue}') = 'array'
          then x.manifest #> '{refundChecks,overdue}' else '[]'::jsonb end) o
      where x.id = ${scope.runId} and o ->> 'actionId' = r.id::text
      limit 1
    ) od on true
    where r.run_id = ${scope.runId}
      or r.discrepancy_id in (select discrepancy_id from run_discrepancies where run_id = ${scope.runId})
    order by r.planned_at, r.id`.compile(scope.db);
  for await (const r of snap.stream(q)) {
    const action = { provider: r.provider, paymentId: r.payment_id, state: r.state };
    const hold = holdOfAction(holds, action);
    await sheet.addRow([
      String(r.id),
      r.discrepancy_id,
      r.type,
      r.provider,
      r.payment_id,
      r.currency,
      money(r.amount_minor, r.currency),
      r.state,
      r.idempotency_key,
      r.gateway_refund_id,
      r.approved_by,
      datetime(r.approved_local),
      datetime(r.planned_local),
      datetime(r.sent_local),
      datetime(r.finished_local),
      datetime(r.verified_local),
      r.settled_in,
      r.last_error,
      hold ? holdText(hold) : releasedOfAction(holds, action).map(releaseText).join('; ') || null,
    ]);
  }
  sheet.close();
  return sheet.rowCount;
}
