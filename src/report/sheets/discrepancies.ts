// Discrepancies: one row per discrepancy the run left open, with the exact columns of reconciliation.md. Finance
// chooses an Action per row; the approval reader (src/report/approval*.ts) reads those rows back.
import { sql } from 'kysely';
import { REFUND_CANDIDATE_TYPES } from '../../refunds/types.js';
import { formatMinor, isCurrency } from '../../shared/money.js';
import { agingBucket, businessCalendar } from '../business-days.js';
import { date, int, money, type Cell } from '../cells.js';
import { CARRIED_ACTIONS, latestDecision } from '../latest-decision.js';
import type { ReportScope } from '../scope.js';
import { openSheet, type SheetSpec } from '../sheet-writer.js';
import type { SheetContext } from './types.js';
import { holdText, openHoldsQuery, RefundHolds, releaseText } from '../../refunds/holds.js';
import { candidateGatewayJoin, refundPaymentSql } from '../../refunds/repository.js';

export const ACTIONS = ['REFUND', 'IGNORE', 'INVESTIGATE'] as const;

/** Whether a (trimmed, upper-cased) Action cell holds one of ACTIONS. */
export function isAction(text: string): text is (typeof ACTIONS)[number] {
  return (ACTIONS as readonly string[]).includes(text);
}

export const DISCREPANCIES_SHEET: SheetSpec = {
  name: 'Discrepancies',
  columns: [
    { header: 'Discrepancy ID', width: 19 },
    { header: 'Provider', width: 10 },
    { header: 'Type', width: 24 },
    { header: 'Transaction ID', width: 36 },
    { header: 'Payment ID', width: 36 },
    { header: 'Merchant reference', width: 22 },
    { header: 'Transaction date', width: 12, align: 'center' },
    { header: 'Settlement date', width: 12, align: 'center' },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Gateway amount', width: 18, align: 'right' },
    { header: 'Settled amount', width: 18, align: 'right' },
    { header: 'Difference', width: 18, align: 'right' },
    { header: 'Age (business days)', width: 8, align: 'center' },
    { header: 'Aging bucket', width: 8, align: 'center' },
    { header: 'Detail', width: 60, indent: true },
    { header: 'Suggested action', width: 14, align: 'center' },
    { header: 'Action', width: 14, align: 'center', list: ACTIONS },
  ],
};

export interface DiscrepancyRow {
  id: string;
  provider: string;
  type: string;
  transaction_id: string;
  payment_id: string | null;
  merchant_reference: string | null;
  transaction_date: string | null;
  settlement_date: string | null;
  currency: string | null;
  gateway_amount_minor: number | null;
  settled_amount_minor: number | null;
  difference_minor: number | null;
  refundable_minor: number | null;
  detail: string;
  refund_state: string | null;
  refund_amount_minor: number | null;
  /** Finance's latest decision (`payrecon decisions import`) and the day it was recorded, in the report's zone. */
  decision: string | null;
  decided_on: string | null;
  /** The payment a refund hold would keep its refund back on (refundPaymentSql, as the plan decides); null: none. */
  hold_payment_id: string | null;
}

/**
 * `withHolds`: whether any rejected record holds (or held) refunds. Without one, nothing of a row can be held and the
 * per-row gateway lookup that finds the payment a hold concerns is left out (a run of a million payments has tens
 * of thousands of rows).
 */
export function discrepanciesQuery(scope: ReportScope, withHolds = true) {
  return sql<DiscrepancyRow>`
    select d.id, d.provider, d.type, d.transaction_id, d.payment_id, d.merchant_reference,
      (d.transaction_time at time zone ${scope.timeZone})::date as transaction_date,
      d.settlement_date, d.currency, d.gateway_amount_minor, d.settled_amount_minor, d.difference_minor,
      d.refundable_minor, d.detail, ra.state as refund_state, ra.amount_minor as refund_amount_minor,
      dd.action as decision, to_char(dd.decided_at at time zone ${scope.timeZone}, 'YYYY-MM-DD') as decided_on,
      ${withHolds ? refundPaymentSql('ra') : sql`null::text`} as hold_payment_id
    from run_discrepancies rd
    join discrepancies d on d.id = rd.discrepancy_id
    -- the latest refund action of each discrepancy, joined by hash (no index serves a per-row lookup here)
    left join (
      select distinct on (discrepancy_id) discrepancy_id, state, amount_minor, payment_id from refund_actions
      order by discrepancy_id, id desc
    ) ra on ra.discrepancy_id = d.id
    left join lateral ${latestDecision(sql`d.id`)} dd on true
    ${withHolds ? candidateGatewayJoin : sql``}
    where rd.run_id = ${scope.runId} and rd.change <> 'closed'
    order by d.provider, d.type, d.transaction_time nulls last, d.id`.compile(scope.db);
}

const REFUND_TYPES: ReadonlySet<string> = new Set(REFUND_CANDIDATE_TYPES);

/**
 * REFUND when matching.md makes it a refund candidate with something left to refund, else INVESTIGATE; also
 * INVESTIGATE once its latest refund failed (the gateway declined it: a payment it will not refund needs another way
 * back, and a new refund is planned only when finance asks for one). IGNORE when finance decided so (`payrecon
 * decisions import`): no refund is planned or executed against that decision (a planned one is cancelled by the next
 * `refunds plan`), so suggesting one would contradict the record. Only a refund that already succeeded says more.
 */
export function suggestedAction(
  r: Pick<
    DiscrepancyRow,
    'type' | 'gateway_amount_minor' | 'difference_minor' | 'refundable_minor' | 'refund_state' | 'decision'
  >,
  /** A rejected gateway record may concern its payment (src/refunds/holds.ts): nothing is proposed meanwhile. */
  held = false,
): string {
  if (r.refund_state === 'succeeded') return 'REFUNDED';
  if (r.decision === 'IGNORE') return 'IGNORE';
  // Finance looks into it rather than asks for a refund.
  if (held) return 'INVESTIGATE';
  if (r.refund_state === 'planned' || r.refund_state === 'sending' || r.refund_state === 'unknown')
    return 'REFUND';
  if (r.refund_state === 'failed' || r.refund_state === 'cancelled') return 'INVESTIGATE';
  if (!REFUND_TYPES.has(r.type)) return 'INVESTIGATE';
  // Only a payment settled for more than the gateway took is refunded (a refund line settled short is not).
  if (r.type === 'amount_mismatch' && !((r.difference_minor ?? 0) > 0 && (r.gateway_amount_minor ?? 0) > 0))
    return 'INVESTIGATE';
  // A refund line the gateway calls failed: money already went to the shopper, nothing to refund.
  if (r.type === 'status_mismatch' && (r.gateway_amount_minor ?? 0) <= 0) return 'INVESTIGATE';
  if (r.refundable_minor !== null && r.refundable_minor <= 0) return 'INVESTIGATE';
  return 'REFUND';
}

/** The Action a new report starts with: finance's latest decision when it is one that is carried. */
function carriedAction(decision: string | null): string | null {
  return decision !== null && CARRIED_ACTIONS.includes(decision) ? decision : null;
}

interface TextWidths {
  transaction_id: number | null;
  payment_id: number | null;
  merchant_reference: number | null;
  detail: number | null;
}

/**
 * A streamed sheet's widths are fixed before its first row; for the sheet finance works in, one aggregate over the
 * same rows first gives the longest ids and references, so they are not cut off (ids of other gateways may be
 * longer than the 32 hex digits we know).
 */
async function fittedSpec({ snap, scope }: SheetContext): Promise<SheetSpec> {
  const [w] = await snap.all(
    sql<TextWidths>`
    select max(length(d.transaction_id)) as transaction_id, max(length(d.payment_id)) as payment_id,
      max(length(d.merchant_reference)) as merchant_reference, max(length(d.detail)) as detail
    from run_discrepancies rd join discrepancies d on d.id = rd.discrepancy_id
    where rd.run_id = ${scope.runId} and rd.change <> 'closed'`.compile(scope.db),
  );
  const fit: Partial<Record<string, number>> = {
    'Transaction ID': Math.min(60, (w?.transaction_id ?? 0) + 2),
    'Payment ID': Math.min(60, (w?.payment_id ?? 0) + 2),
    'Merchant reference': Math.min(50, (w?.merchant_reference ?? 0) + 2),
    // the detail may gain "; refund succeeded: 1,234.56 EUR; decided INVESTIGATE on 2026-11-21"
    Detail: Math.min(90, (w?.detail ?? 0) + 66),
  };
  return {
    ...DISCREPANCIES_SHEET,
    columns: DISCREPANCIES_SHEET.columns.map((c) => ({ ...c, width: Math.max(c.width, fit[c.header] ?? 0) })),
  };
}

export async function writeDiscrepancies(sc: SheetContext): Promise<number> {
  const { wb, snap, scope, maxRows, signal } = sc;
  const sheet = openSheet(wb, await fittedSpec(sc), maxRows, signal);
  const calendar = businessCalendar(scope.holidays);
  // Refunds held by rejected gateway records (src/refunds/holds.ts), as `refunds plan` and `refunds execute` see
  // them now: on the payment refundPaymentSql gives, the one the plan holds (or released by hand, and said so).
  const holdRows = await snap.all(openHoldsQuery().compile(scope.db));
  const holds = new RefundHolds(holdRows);
  for await (const r of snap.stream(discrepanciesQuery(scope, holdRows.length > 0))) {
    const hold = r.hold_payment_id === null ? undefined : holds.find(r.provider, r.hold_payment_id);
    const released =
      hold || r.hold_payment_id === null ? [] : holds.releasedOn(r.provider, r.hold_payment_id);
    const start = r.transaction_date ?? r.settlement_date;
    const age = start ? calendar.between(start, scope.asOf) : null;
    const refund =
      r.refund_state && r.refund_amount_minor !== null && r.currency && isCurrency(r.currency)
        ? `refund ${r.refund_state}: ${formatMinor(r.refund_amount_minor, r.currency)} ${r.currency}`
        : '';
    const cells: Cell[] = [
      r.id,
      r.provider,
      r.type,
      r.transaction_id,
      r.payment_id,
      r.merchant_reference,
      date(r.transaction_date),
      date(r.settlement_date),
      r.currency,
      money(r.gateway_amount_minor, r.currency),
      money(r.settled_amount_minor, r.currency),
      money(r.difference_minor, r.currency),
      int(age),
      age === null ? null : agingBucket(age),
      [
        r.detail,
        refund,
        hold ? holdText(hold) : '',
        ...released.map(releaseText),
        r.decision ? `decided ${r.decision} on ${r.decided_on}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      suggestedAction(r, hold !== undefined),
      carriedAction(r.decision),
    ];
    await sheet.addRow(cells);
  }
  sheet.close();
  return sheet.rowCount;
}
