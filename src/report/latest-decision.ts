// Finance's decisions on a discrepancy (`payrecon decisions import`) are kept as history, every change a row; the
// current one is the latest. Read by the import (to record only changes) and by the report (Action, Detail, Summary).
import { sql, type RawBuilder } from 'kysely';

/**
 * The latest decision of the discrepancy `discrepancyId` names, as a subquery for a LATERAL join (columns id, action,
 * decided_at, source_file): one probe of the (discrepancy_id, id) index per discrepancy. A distinct on, as for refund actions,
 * would read the whole history. Its action is null when finance withdrew the decision (an Action cleared).
 */
export function latestDecision(discrepancyId: RawBuilder<unknown>): RawBuilder<unknown> {
  return decisionUpTo(discrepancyId, null);
}

/**
 * The decision of `discrepancyId` that was the latest once decision `upTo` was recorded (see DECISIONS_SHOWN_ITEM),
 * as latestDecision gives it; `upTo` null: the latest now.
 */
export function decisionUpTo(discrepancyId: RawBuilder<unknown>, upTo: number | null): RawBuilder<unknown> {
  const upToSql = upTo === null ? sql`` : sql`and x.id <= ${upTo}::bigint`;
  return sql`(
    select x.id, x.action, x.decided_at, x.source_file from discrepancy_decisions x
    where x.discrepancy_id = ${discrepancyId} ${upToSql}
    order by x.id desc limit 1
  )`;
}

/**
 * The Run info item whose value is the id of the last decision recorded when the workbook was written (0: none), read
 * from the same snapshot as its Discrepancies sheet. Decisions are numbered in the order they are recorded (imports
 * take turns under a table lock), so `decisions import` knows from it which Actions the workbook started with and
 * which decisions were recorded after it was written: a clock could not say that (a decision and a workbook can
 * share a second, and PAYRECON_NOW pins the clock).
 */
export const DECISIONS_SHOWN_ITEM = 'Decisions shown up to';

/**
 * The decisions a new workbook's Action starts from. Never REFUND: left standing in the next workbook,
 * `refunds execute --approval-file` would read it as a new approval, of whatever refund is planned by then, which
 * finance did not choose again (the Detail still says REFUND was decided).
 */
export const CARRIED_ACTIONS: readonly string[] = ['IGNORE', 'INVESTIGATE'];
