// A workbook row's figures (Currency, Gateway amount, Settled amount, Difference) against the database's: the
// refund approval refuses a row that differs (an edited amount), and the decisions import a decision taken on
// figures that have changed since the workbook was written.
import { formatMinor, jsonNumberToMinor, parseMajorToMinor } from '../shared/money.js';
import type { ApprovalRow, CellAmount } from './approval-reader.js';

/** A discrepancy's figures as the database holds them now. */
export interface DbFigures {
  currency: string | null;
  gateway_amount_minor: number | null;
  settled_amount_minor: number | null;
  difference_minor: number | null;
}

export interface FigureDifference {
  /** The column: Currency, Gateway amount, Settled amount or Difference. */
  column: string;
  /** `Gateway amount 25 differs from the database (40.00)`. */
  text: string;
}

/** Each of the row's figures that is not exactly the database's (amounts compared in minor units). */
export function figureDifferences(
  row: Pick<ApprovalRow, 'currency' | 'gatewayAmount' | 'settledAmount' | 'difference'>,
  d: DbFigures,
): FigureDifference[] {
  const out: FigureDifference[] = [];
  if (row.currency !== d.currency)
    out.push({
      column: 'Currency',
      text: `Currency "${row.currency ?? ''}" differs from the database (${d.currency ?? 'none'})`,
    });
  const cur = d.currency;
  if (!cur) return out;
  const check = (column: string, cell: CellAmount, minor: number | null) => {
    const got = toMinor(cell, cur);
    if (got === minor) return;
    const shown = typeof cell === 'number' ? String(cell) : (cell ?? 'empty');
    const want = minor === null ? 'empty' : formatMinor(minor, cur);
    out.push({ column, text: `${column} ${shown} differs from the database (${want})` });
  };
  check('Gateway amount', row.gatewayAmount, d.gateway_amount_minor);
  check('Settled amount', row.settledAmount, d.settled_amount_minor);
  check('Difference', row.difference, d.difference_minor);
  return out;
}

/** Exact conversion; anything that is not an amount of this currency compares unequal (undefined). */
function toMinor(cell: CellAmount, currency: string): number | null | undefined {
  if (cell === null) return null;
  try {
    return typeof cell === 'number' ? jsonNumberToMinor(cell, currency) : parseMajorToMinor(cell, currency);
  } catch {
    return undefined;
  }
}
