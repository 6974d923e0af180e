import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { discrepancyId as idFor } from '../reconcile/ids.js';
import type { DiscrepancyType } from '../reconcile/types.js';
import { unreadableReason, UsageError } from '../shared/errors.js';

// Reads finance's decisions back from the report workbook: the rows of the Discrepancies sheet (and its
// continuation sheets "Discrepancies (2)", …) whose Action is filled in (readActionRows, for `payrecon decisions
// import`), or is REFUND (readApprovalWorkbook, for the refund executor). It only reads: checking each row against
// the database is the caller's job.
// Not streamed: ExcelJS's streaming reader fails on workbooks whose zip lists the worksheets before
// xl/workbook.xml (as ExcelJS itself writes them, and as other tools may save them), and an approval must never
// depend on the order a spreadsheet program happened to write its zip entries in.

export const APPROVAL_ACTION = 'REFUND';

/** A cell as finance left it: a number (major units), text, or nothing. */
export type CellAmount = number | string | null;

export interface ApprovalRow {
  sheet: string;
  /** 1-based row number as Excel shows it. */
  row: number;
  discrepancyId: string;
  currency: string | null;
  gatewayAmount: CellAmount;
  settledAmount: CellAmount;
  difference: CellAmount;
  /**
   * Whether the id is the one the row's own Provider, Type and Transaction ID give. When not, the Action is not on
   * the row it was chosen for (a column sorted or pasted apart from the others, a row edited by hand).
   */
  idMatchesRow: boolean;
}

/** The problem to name when a row's id is not its own (see ApprovalRow.idMatchesRow). */
export const MISPLACED_ROW =
  "the Discrepancy ID does not belong to this row's Provider, Type and Transaction ID (sorted or edited apart from its row?)";

const COLUMNS = {
  id: 'Discrepancy ID',
  provider: 'Provider',
  type: 'Type',
  transactionId: 'Transaction ID',
  currency: 'Currency',
  gateway: 'Gateway amount',
  settled: 'Settled amount',
  difference: 'Difference',
  action: 'Action',
} as const;

const SHEET_RE = /^Discrepancies(?: \(\d+\))?$/;

/** A row whose Action cell holds anything: `action` is that text, trimmed and upper-cased, not yet checked. */
export interface ActionRow extends ApprovalRow {
  action: string;
}

/** The rows marked REFUND, which approve refunds. */
export async function readApprovalWorkbook(file: string): Promise<ApprovalRow[]> {
  return (await readActionRows(file, 'approval file')).rows.filter((r) => r.action === APPROVAL_ACTION);
}

/**
 * Every row of the Discrepancies sheets with something in its Action cell, and the SHA-256 of the file's bytes as
 * read; `label` names the file in errors.
 */
export async function readActionRows(
  file: string,
  label = 'workbook',
): Promise<{ rows: ActionRow[]; sha256: string }> {
  const wb = new ExcelJS.Workbook();
  let bytes: Buffer;
  try {
    // Read here, not by ExcelJS's readFile, whose "File not found" error carries no code.
    bytes = await readFile(file);
  } catch (e) {
    throw new UsageError(`${label} ${file} ${unreadableReason(e)}`, {
      cause: e,
    });
  }
  try {
    // ExcelJS declares its own Buffer type, which Node's generic Buffer no longer satisfies; the bytes are the same.
    await wb.xlsx.load(bytes as unknown as Parameters<typeof wb.xlsx.load>[0]);
  } catch (e) {
    throw new UsageError(`${label} ${file} is not a readable .xlsx workbook (${(e as Error).message})`, {
      cause: e,
    });
  }
  const sheets = wb.worksheets.filter((ws) => SHEET_RE.test(ws.name));
  if (sheets.length === 0) throw new UsageError(`${label} ${file} has no Discrepancies sheet`);
  const out: ActionRow[] = [];
  for (const sheet of sheets) {
    const cols = headerColumns(sheet.getRow(1), sheet.name, `${label} ${file}`);
    sheet.eachRow((row, number) => {
      if (number === 1) return;
      const action = cellText(row.getCell(cols.action).value).trim().toUpperCase();
      if (action === '') return;
      const discrepancyId = cellText(row.getCell(cols.id).value).trim();
      out.push({
        action,
        sheet: sheet.name,
        row: number,
        discrepancyId,
        idMatchesRow: idOf(row, cols) === discrepancyId,
        currency: cellText(row.getCell(cols.currency).value).trim() || null,
        gatewayAmount: cellAmount(row.getCell(cols.gateway).value),
        settledAmount: cellAmount(row.getCell(cols.settled).value),
        difference: cellAmount(row.getCell(cols.difference).value),
      });
    });
  }
  return { rows: out, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The id the row's Provider, Type and Transaction ID give (docs/matching.md), or null when one is missing. */
function idOf(row: ExcelJS.Row, cols: Record<keyof typeof COLUMNS, number>): string | null {
  const provider = cellText(row.getCell(cols.provider).value).trim();
  const type = cellText(row.getCell(cols.type).value).trim();
  const key = cellText(row.getCell(cols.transactionId).value).trim();
  if (provider === '' || type === '' || key === '') return null;
  return idFor(provider, type as DiscrepancyType, key);
}

function headerColumns(row: ExcelJS.Row, sheet: string, named: string): Record<keyof typeof COLUMNS, number> {
  const byName = new Map<string, number>();
  row.eachCell((cell, col) => byName.set(cellText(cell.value).trim(), col));
  const entries = Object.entries(COLUMNS).map(([key, header]) => {
    const col = byName.get(header);
    if (col === undefined) throw new UsageError(`${named}: sheet ${sheet} has no "${header}" column`);
    return [key, col] as const;
  });
  return Object.fromEntries(entries) as Record<keyof typeof COLUMNS, number>;
}

/** Unwraps what ExcelJS may hand back for a cell: rich text, hyperlinks, formula results. */
function unwrap(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined || typeof value !== 'object' || value instanceof Date)
    return value;
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('result' in value) return unwrap(value.result);
  if ('text' in value) return unwrap(value.text);
  return undefined;
}

function cellText(value: ExcelJS.CellValue): string {
  const v = unwrap(value);
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

function cellAmount(value: ExcelJS.CellValue): CellAmount {
  const v = unwrap(value);
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (v === null || v === undefined) return null;
  return cellText(value);
}
