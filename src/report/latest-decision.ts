// Finance's decisions on a discrepancy (`payrecon decisions import`) are kept as history, every change a row; the
// current one is the latest. Read by the import (to record only changes) and by the report (Action, Detail, Summary).
import { sql, type RawBuilder } from 'kysely';

/**
 * The latest decision of the discrepancy `discrepancyId` names, as a subquery for a LATERAL join (columns action,
 * decided_at, source_file): one probe of the (discrepancy_id, id) index per discrepancy. A distinct on, as for refund actions,
 * would read the whole history.
 */
export function latestDecision(discrepancyId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(
    select x.action, x.decided_at, x.source_file from discrepancy_decisions x where x.discrepancy_id = ${discrepancyId}
    order by x.id desc limit 1
  )`;
}

/**
 * The decisions a new workbook's Action starts from. Never REFUND: left standing in the next workbook,
 * `refunds execute --approval-file` would read it as a new approval, of whatever refund is planned by then, which
 * finance did not choose again (the Detail still says REFUND was decided).
 */
export const CARRIED_ACTIONS: readonly string[] = ['IGNORE', 'INVESTIGATE'];
