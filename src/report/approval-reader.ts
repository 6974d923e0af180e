import { access } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { UsageError } from '../shared/errors.js';

// Reads finance's decisions back from the report workbook: the rows of the Discrepancies sheet (and its
// continuation sheets "Discrepancies (2)", …) whose Action is REFUND. Streamed, so a large workbook is never held
// in memory whole. It only reads: checking each row against the database is the refund executor's job.

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
}

const COLUMNS = {
  id: 'Discrepancy ID',
  currency: 'Currency',
  gateway: 'Gateway amount',
  settled: 'Settled amount',
  difference: 'Difference',
  action: 'Action',
} as const;

const SHEET_RE = /^Discrepancies(?: \(\d+\))?$/;

export async function readApprovalWorkbook(file: string): Promise<ApprovalRow[]> {
  try {
    await access(file);
  } catch (e) {
    throw new UsageError(`approval file ${file} cannot be read`, { cause: e });
  }
  const out: ApprovalRow[] = [];
  let sawSheet = false;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'ignore',
    hyperlinks: 'ignore',
    entries: 'emit',
  });
  try {
    for await (const sheet of reader) {
      const name = (sheet as unknown as { name: string }).name;
      if (!SHEET_RE.test(name)) {
        // Drain the sheet: the reader must pass over its rows to reach the next one.
        for await (const _ of sheet) void _;
        continue;
      }
      sawSheet = true;
      let cols: Record<keyof typeof COLUMNS, number> | undefined;
      for await (const row of sheet) {
        if (!cols) {
          cols = headerColumns(row, name, file);
          continue;
        }
        const action = cellText(row.getCell(cols.action).value).trim().toUpperCase();
        if (action !== APPROVAL_ACTION) continue;
        out.push({
          sheet: name,
          row: row.number,
          discrepancyId: cellText(row.getCell(cols.id).value).trim(),
          currency: cellText(row.getCell(cols.currency).value).trim() || null,
          gatewayAmount: cellAmount(row.getCell(cols.gateway).value),
          settledAmount: cellAmount(row.getCell(cols.settled).value),
          difference: cellAmount(row.getCell(cols.difference).value),
        });
      }
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`approval file ${file} is not a readable .xlsx workbook: ${(e as Error).message}`, { cause: e });
  }
  if (!sawSheet) throw new UsageError(`approval file ${file} has no Discrepancies sheet`);
  return out;
}

function headerColumns(row: ExcelJS.Row, sheet: string, file: string): Record<keyof typeof COLUMNS, number> {
  const byName = new Map<string, number>();
  row.eachCell((cell, col) => byName.set(cellText(cell.value).trim(), col));
  const entries = Object.entries(COLUMNS).map(([key, header]) => {
    const col = byName.get(header);
    if (col === undefined) throw new UsageError(`approval file ${file}: sheet ${sheet} has no "${header}" column`);
    return [key, col] as const;
  });
  return Object.fromEntries(entries) as Record<keyof typeof COLUMNS, number>;
}

/** Unwraps what ExcelJS may hand back for a cell: rich text, hyperlinks, formula results. */
function unwrap(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined || typeof value !== 'object' || value instanceof Date) return value;
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
