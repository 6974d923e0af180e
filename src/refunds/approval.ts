import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { latestDecision } from '../report/latest-decision.js';
import { idProblem, readApprovalWorkbook, type ApprovalRow } from '../report/approval-reader.js';
import { figureDifferences } from '../report/row-figures.js';
import { UsageError } from '../shared/errors.js';
import { formatMinor } from '../shared/money.js';
import { holdOfAction, holdText, openHoldsQuery, RefundHolds } from './holds.js';
import { liveActionsOf, ruleAmountSql } from './repository.js';
import { REFUND_CANDIDATE_TYPES, type Approval, type RefundActionView } from './types.js';

// Turns an approval into the live refund actions it approves, refusing the whole approval when any part of it does
// not match the database exactly. A refused approval sends nothing.

interface DiscrepancyRow {
  id: string;
  type: string;
  status: 'open' | 'closed';
  close_reason: string | null;
  currency: string | null;
  gateway_amount_minor: number | null;
  settled_amount_minor: number | null;
  difference_minor: number | null;
  /** What it calls for now (ruleAmountSql); null or ≤ 0: nothing. */
  rule_minor: number | null;
  in_run: boolean;
  /** The error of the discrepancy's latest failed or cancelled action, if that is its latest. */
  last_failure: string | null;
  /** Whether that action was cancelled before sending (rather than declined or failed at the gateway). */
  last_cancelled: boolean | null;
  /** Finance's latest recorded decision (`payrecon decisions import`) and the workbook it came from. */
  decision: string | null;
  decision_file: string | null;
  /** Its number (decisions are numbered in the order recorded: see DECISIONS_SHOWN_ITEM); null without one. */
  decision_id: number | null;
}

export interface ResolvedApproval {
  actions: RefundActionView[];
  /** Stored as approved_by: where the approval came from (a workbook: its path and SHA-256). */
  source: string;
}

export async function resolveApproval(db: Db, runId: number, approval: Approval): Promise<ResolvedApproval> {
  const workbook = 'workbook' in approval ? await readApprovalWorkbook(approval.workbook) : undefined;
  const rows = workbook?.rows;
  const ids =
    'ids' in approval ? approval.ids.map((s) => s.trim()) : (rows ?? []).map((r) => r.discrepancyId);
  if (ids.length === 0) {
    throw new UsageError(
      rows
        ? 'the approval workbook has no row with Action REFUND: nothing approved'
        : 'no discrepancy ids given: nothing approved',
    );
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  // The row each id is first approved on names the problems with it (a map: a large approval has many rows).
  const firstRow = new Map<string, ApprovalRow>();
  const at = (r: ApprovalRow) => `${r.sheet} row ${r.row} (${r.discrepancyId || 'no id'})`;
  const where = (id: string) => {
    const r = firstRow.get(id);
    return r ? at(r) : id;
  };
  for (const [i, id] of ids.entries()) {
    const row = rows?.[i];
    const first = firstRow.get(id);
    if (row && first) problems.push(`${at(row)}: also approved on ${first.sheet} row ${first.row}`);
    else if (seen.has(id)) problems.push(`${id}: approved more than once`);
    else if (row) firstRow.set(id, row);
    seen.add(id);
  }
  const found = await loadDiscrepancies(db, runId, [...seen]);
  const live = new Map((await liveActionsOf(db, [...seen])).map((a) => [a.discrepancyId, a]));
  // A gateway record rejected since the plan may be a refund or chargeback of the payment (src/refunds/holds.ts):
  // what `refunds plan` would no longer propose, and lists as held, is not sent either (a released hold holds
  // nothing).
  const holds = new RefundHolds((await openHoldsQuery().execute(db)).rows);
  for (const id of seen) {
    const d = found.get(id);
    const row = firstRow.get(id);
    if (!d) {
      // An id that became a number is unknown because of it: say that.
      const why = row?.idAsNumber ? idProblem(row) : null;
      problems.push(`${where(id)}: ${why ?? 'unknown discrepancy id'}`);
      continue;
    }
    if (d.status !== 'open')
      problems.push(`${where(id)}: discrepancy is closed (${d.close_reason ?? 'no reason'})`);
    const action = live.get(id);
    // Finance recorded that this one is not to be refunded: an approval that says otherwise (ids typed by hand, an
    // older workbook) does not overrule that record. A newer decision does, once imported.
    if (d.decision === 'IGNORE' && action?.state !== 'succeeded')
      problems.push(
        `${where(id)}: finance decided IGNORE (recorded from ${d.decision_file ?? 'a workbook'}); import a workbook that decides REFUND with \`payrecon decisions import\` first`,
      );
    // A workbook approves what it showed: a decision other than REFUND recorded after it was written (INVESTIGATE,
    // or REFUND withdrawn) is newer than that approval, as `decisions import` treats it. Without the Run info row
    // saying which decisions it showed, any such decision counts as newer.
    const shown = workbook?.decisionsShownUpTo;
    if (
      workbook &&
      d.decision_id !== null &&
      d.decision !== 'REFUND' &&
      d.decision !== 'IGNORE' &&
      (shown === null || shown === undefined || d.decision_id > shown) &&
      action?.state !== 'succeeded'
    )
      problems.push(
        `${where(id)}: finance recorded ${d.decision === null ? 'a withdrawal of its decision' : d.decision} from ${d.decision_file ?? 'a workbook'} after this workbook was written; approve from a newer workbook, or import one that decides REFUND with \`payrecon decisions import\` first`,
      );
    // The plan's rule (holdOfAction): the action's own payment, while the refund is not done.
    const hold = action ? holdOfAction(holds, action) : undefined;
    if (hold) problems.push(`${where(id)}: ${holdText(hold)}`);
    if (!action) problems.push(`${where(id)}: ${whyNoAction(d, runId)}`);
    else if (action.state !== 'succeeded' && d.currency && action.amountMinor > (d.rule_minor ?? 0)) {
      // The discrepancy changed since the plan (a corrected file, a rerun): the planned amount is no longer owed.
      problems.push(
        `${where(id)}: the planned refund of ${formatMinor(action.amountMinor, d.currency)} ${d.currency} is more than the discrepancy now calls for (${formatMinor(Math.max(0, d.rule_minor ?? 0), d.currency)}); run \`payrecon refunds plan --run ${runId}\` again`,
      );
    }
    if (!d.in_run) problems.push(`${where(id)}: not a discrepancy of run ${runId}`);
    const wrongId = row && idProblem(row);
    if (wrongId) problems.push(`${where(id)}: ${wrongId}`);
    if (row) problems.push(...compareRow(row, d).map((p) => `${where(id)}: ${p}`));
  }
  if (problems.length > 0) {
    throw new UsageError(`approval refused, nothing was sent: ${problems.join('; ')}`);
  }
  return {
    actions: [...seen].map((id) => live.get(id)).filter((a): a is RefundActionView => a !== undefined),
    // The digest names the very bytes approved: the file may be edited or replaced under the same name later.
    source:
      'workbook' in approval && workbook ? `workbook:${approval.workbook} sha256:${workbook.sha256}` : 'ids',
  };
}

/** Why a discrepancy approved for a refund has none to send, and what can be done. */
function whyNoAction(d: DiscrepancyRow, runId: number): string {
  if (!(REFUND_CANDIDATE_TYPES as readonly string[]).includes(d.type))
    return `a ${d.type} is never refunded (refund candidates: ${REFUND_CANDIDATE_TYPES.join(', ')})`;
  if (d.last_failure && d.last_cancelled)
    return `its planned refund was cancelled before sending (${d.last_failure}); \`payrecon refunds plan --run ${runId}\` proposes a new one if it is still owed`;
  if (d.last_failure)
    return `its last refund failed (${d.last_failure}); \`payrecon refunds plan --run ${runId}\` proposes a new one, worth it only once the cause is gone (a payment the gateway will not refund needs another way back)`;
  return `no refund is planned for it (run \`payrecon refunds plan --run ${runId}\` first)`;
}

async function loadDiscrepancies(db: Db, runId: number, ids: string[]): Promise<Map<string, DiscrepancyRow>> {
  const { rows } = await sql<DiscrepancyRow>`
    select d.id, d.type, d.status, d.close_reason, d.currency, d.gateway_amount_minor, d.settled_amount_minor, d.difference_minor,
           ${ruleAmountSql} as rule_minor,
           (d.last_seen_run_id = ${runId} or d.opened_run_id = ${runId}
            or exists (select 1 from run_discrepancies rd where rd.run_id = ${runId} and rd.discrepancy_id = d.id)
            or exists (select 1 from refund_actions a where a.discrepancy_id = d.id and a.run_id = ${runId})) as in_run,
           case when la.state in ('failed', 'cancelled') then coalesce(la.last_error, la.state) end as last_failure,
           la.state = 'cancelled' as last_cancelled,
           dd.action as decision, dd.source_file as decision_file, dd.id::int as decision_id
      from discrepancies d
      -- the discrepancy's latest refund action, read once
      left join lateral (select a.state, a.last_error from refund_actions a where a.discrepancy_id = d.id
                         order by a.id desc limit 1) la on true
      left join lateral ${latestDecision(sql`d.id`)} dd on true
     where d.id = any(${ids}::text[])`.execute(db);
  return new Map(rows.map((r) => [r.id, { ...r, currency: r.currency?.trim() ?? null }]));
}

/** An approved row must show exactly what the database holds: anything edited is refused, never executed. */
function compareRow(row: ApprovalRow, d: DiscrepancyRow): string[] {
  return figureDifferences(row, d).map((f) =>
    f.column === 'Currency' ? f.text : `${f.text}; edited amounts are refused`,
  );
}
