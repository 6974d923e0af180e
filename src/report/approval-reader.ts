import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { discrepancyId as idFor } from '../reconcile/ids.js';
import type { DiscrepancyType } from '../reconcile/types.js';
import { causeChain, unreadableReason, UsageError } from '../shared/errors.js';
import { DECISIONS_SHOWN_ITEM } from './latest-decision.js';
import { ACTIONS, isAction } from './sheets/discrepancies.js';
import { RUN_INFO_SHEET } from './sheets/run-info.js';
import { sheetRows, type CellValue } from './xlsx/sheet-rows.js';
import { OpenDocumentError, readSharedStrings, xlsxStructure, type XlsxSheet } from './xlsx/workbook.js';
import { ZipFile } from './xlsx/zip.js';

// Reads finance's decisions back from the report workbook: the rows of the Discrepancies sheet (and its
// continuation sheets "Discrepancies (2)", …) whose Action is filled in (readActionRows, for `payrecon decisions
// import`), or is REFUND (readApprovalWorkbook, for the refund executor). It only reads: checking each row against
// the database is the caller's job.
// Streamed, part by part (./xlsx): a large run's sheets hold more XML than a JavaScript string can, and the other
// sheets (Changes is as large as Discrepancies on a first run) are never even decompressed.

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
  /**
   * When the id is not the row's own because its Discrepancy ID or Transaction ID cell holds a number instead of
   * text, that column: a CSV round trip through a spreadsheet program turns 19-digit ids into numbers, which keep
   * only about 15 significant digits.
   */
  idAsNumber: IdColumn | null;
}

type IdColumn = typeof COLUMNS.id | typeof COLUMNS.transactionId;

/** The problem to name when a row's id is not its own (see ApprovalRow.idMatchesRow). */
export const MISPLACED_ROW =
  "the Discrepancy ID does not belong to this row's Provider, Type and Transaction ID (sorted or edited apart from its row?)";

/** What is wrong with a row's id (ApprovalRow.idAsNumber, idMatchesRow), or null when it is the row's own. */
export function idProblem(row: ApprovalRow): string | null {
  if (row.idAsNumber)
    return `the ${row.idAsNumber} was turned into a number (digits may be lost): keep ids as text`;
  return row.idMatchesRow ? null : MISPLACED_ROW;
}

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

/**
 * A row whose Action cell holds anything (or an empty one asked for, see ReadOptions.blanks): `action` is that text,
 * trimmed and upper-cased, not yet checked.
 */
export interface ActionRow extends ApprovalRow {
  action: string;
}

/** The rows marked REFUND, which approve refunds, and the SHA-256 of the file they were read from. */
export async function readApprovalWorkbook(
  file: string,
): Promise<{ rows: ApprovalRow[]; sha256: string; decisionsShownUpTo: number | null }> {
  const { rows, sha256, decisionsShownUpTo } = await readActionRows(file, 'approval file');
  // A mistyped REFUND would otherwise be passed over in silence, and its refund not sent with the others.
  const unknown = rows.filter((r) => !isAction(r.action));
  if (unknown.length > 0)
    throw new UsageError(
      `approval refused, nothing was sent: ${unknown
        .slice(0, 10)
        .map((r) => `${r.sheet} row ${r.row}: Action "${r.action}" is not one of ${ACTIONS.join(', ')}`)
        .join('; ')}${unknown.length > 10 ? `; and ${unknown.length - 10} more` : ''}`,
    );
  return { rows: rows.filter((r) => r.action === APPROVAL_ACTION), sha256, decisionsShownUpTo };
}

/** A workbook's Action rows, the SHA-256 of its bytes, and the decisions it was written with. */
export interface ActionRows {
  rows: ActionRow[];
  sha256: string;
  /** Its Run info's DECISIONS_SHOWN_ITEM; null when it has none (written before it existed, or the sheet deleted). */
  decisionsShownUpTo: number | null;
}

export interface ReadOptions {
  /**
   * Which rows with an empty Action to return too (with action ''), asked for each id once the workbook's
   * decisionsShownUpTo is read: an Action the workbook was written with and finance cleared is a withdrawal, and
   * only the caller knows which Actions it was written with. Without it, empty Actions are skipped.
   */
  blanks?: (decisionsShownUpTo: number | null) => Promise<(id: string) => boolean>;
}

/**
 * Every row of the Discrepancies sheets with something in its Action cell (and the empty ones `opts.blanks` asks
 * for), the SHA-256 of the file's bytes as read, and its decisionsShownUpTo; `label` names the file in errors.
 */
export async function readActionRows(
  file: string,
  label = 'workbook',
  opts: ReadOptions = {},
): Promise<ActionRows> {
  return withWorkbook(file, label, async (handle, named) => {
    // Everything is read through this one open file, so the digest is of the file the rows came from even when a
    // spreadsheet program saves a new one under the same name meanwhile; a write into this very file shows in its
    // size or modification time, and then the rows and the digest might not be of the same bytes.
    const before = await handle.stat();
    const zip = await ZipFile.open(handle);
    const book = await openBook(zip, named);
    const decisionsShownUpTo = await readDecisionsShown(zip, book);
    const blank = opts.blanks ? await opts.blanks(decisionsShownUpTo) : () => false;
    const rows = await readRows(zip, book, named, blank);
    const sha256 = await digest(handle);
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs)
      throw new UsageError(`${named} changed while it was being read: try again once it is saved`);
    return { rows, sha256, decisionsShownUpTo };
  });
}

/**
 * Says, without reading its rows, what is wrong with `file` as a report workbook (missing, unreadable, not .xlsx,
 * without a Discrepancies sheet), by the same errors as readActionRows: a command can check it before it starts a
 * database.
 */
export async function checkWorkbook(file: string, label = 'workbook'): Promise<void> {
  await withWorkbook(file, label, async (handle, named) => {
    await openBook(await ZipFile.open(handle), named);
  });
}

/** Runs `read` on `file` open, turning what goes wrong into a UsageError naming the file. */
async function withWorkbook<T>(
  file: string,
  label: string,
  read: (handle: FileHandle, named: string) => Promise<T>,
): Promise<T> {
  const named = `${label} ${file}`;
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new UsageError(`${named} ${unreadableReason(e)}`, { cause: e });
  }
  try {
    return await read(handle, named);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof OpenDocumentError) {
      const message = `${named} is an OpenDocument spreadsheet, not .xlsx: save it as Excel 2007-365 (.xlsx)`;
      throw new UsageError(message, { cause: e });
    }
    if (causeChain(e).some((c) => 'syscall' in c))
      throw new UsageError(`${named} ${unreadableReason(e)}`, { cause: e });
    throw new UsageError(`${named} is not a readable .xlsx workbook (${(e as Error).message})`, { cause: e });
  } finally {
    await handle.close();
  }
}

interface Book {
  sheets: XlsxSheet[];
  shared: string[];
}

/** The workbook's sheets and shared strings; refused without a Discrepancies sheet. */
async function openBook(zip: ZipFile, named: string): Promise<Book> {
  const { sheets, sharedStrings } = await xlsxStructure(zip);
  if (!sheets.some((s) => SHEET_RE.test(s.name))) throw new UsageError(`${named} has no Discrepancies sheet`);
  return { sheets, shared: sharedStrings ? await readSharedStrings(zip, sharedStrings) : [] };
}

/**
 * The Value of the Run info row DECISIONS_SHOWN_ITEM, or null when there is no such sheet or row, or its value is
 * not a whole number (the sheet is small: a few hundred rows).
 */
async function readDecisionsShown(zip: ZipFile, book: Book): Promise<number | null> {
  const sheet = book.sheets.find((s) => s.name === RUN_INFO_SHEET.name);
  if (!sheet) return null;
  let item: number | undefined;
  let value: number | undefined;
  for await (const { number, cells } of sheetRows(zip, sheet.entry, book.shared)) {
    if (number === 1) {
      cells.forEach((c, col) => {
        if (cellText(c).trim() === 'Item') item = col;
        if (cellText(c).trim() === 'Value') value = col;
      });
      continue;
    }
    if (item === undefined || value === undefined) return null;
    if (cellText(cells[item]).trim() !== DECISIONS_SHOWN_ITEM) continue;
    const text = cellText(cells[value]).trim();
    const n = Number(text);
    return text !== '' && Number.isSafeInteger(n) && n >= 0 ? n : null;
  }
  return null;
}

type Columns = Record<keyof typeof COLUMNS, number>;

async function readRows(
  zip: ZipFile,
  book: Book,
  named: string,
  blank: (id: string) => boolean,
): Promise<ActionRow[]> {
  const wanted = book.sheets.filter((s) => SHEET_RE.test(s.name));
  const out: ActionRow[] = [];
  for (const sheet of wanted) {
    let cols: Columns | undefined;
    for await (const { number, cells } of sheetRows(zip, sheet.entry, book.shared)) {
      if (!cols) {
        // Row 1 holds the headers; a sheet without it has none of the columns.
        cols = headerColumns(number === 1 ? cells : [], sheet.name, named);
        if (number === 1) continue;
      }
      const action = cellText(cells[cols.action]).trim().toUpperCase();
      const discrepancyId = cellText(cells[cols.id]).trim();
      if (action === '' && (discrepancyId === '' || !blank(discrepancyId))) continue;
      const idMatchesRow = idOf(cells, cols) === discrepancyId;
      out.push({
        action,
        sheet: sheet.name,
        row: number,
        discrepancyId,
        idMatchesRow,
        idAsNumber: idMatchesRow ? null : numberIn(cells, cols),
        currency: cellText(cells[cols.currency]).trim() || null,
        gatewayAmount: cellAmount(cells[cols.gateway]),
        settledAmount: cellAmount(cells[cols.settled]),
        difference: cellAmount(cells[cols.difference]),
      });
    }
    if (!cols) headerColumns([], sheet.name, named);
  }
  return out;
}

/** SHA-256 of the whole file open in `handle`. */
async function digest(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/** The id the row's Provider, Type and Transaction ID give (docs/matching.md), or null when one is missing. */
function idOf(cells: readonly CellValue[], cols: Columns): string | null {
  const provider = cellText(cells[cols.provider]).trim();
  const type = cellText(cells[cols.type]).trim();
  const key = cellText(cells[cols.transactionId]).trim();
  if (provider === '' || type === '' || key === '') return null;
  return idFor(provider, type as DiscrepancyType, key);
}

/** The id column whose cell holds a number, if one does. */
function numberIn(cells: readonly CellValue[], cols: Columns): IdColumn | null {
  if (typeof cells[cols.id] === 'number') return COLUMNS.id;
  return typeof cells[cols.transactionId] === 'number' ? COLUMNS.transactionId : null;
}

/** Each column's number, from the header row's cells: a column is found by its header, wherever it is. */
function headerColumns(cells: readonly CellValue[], sheet: string, named: string): Columns {
  const byName = new Map<string, number>();
  cells.forEach((value, col) => byName.set(cellText(value).trim(), col));
  const entries = Object.entries(COLUMNS).map(([key, header]) => {
    const col = byName.get(header);
    if (col === undefined) throw new UsageError(`${named}: sheet ${sheet} has no "${header}" column`);
    return [key, col] as const;
  });
  return Object.fromEntries(entries) as Columns;
}

function cellText(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

function cellAmount(value: CellValue | undefined): CellAmount {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (value === null || value === undefined) return null;
  return String(value);
}
