// One logical sheet written through exceljs's streaming writer: rows are committed as they come, so memory does
// not grow with the row count. Past the row limit the sheet continues in "<name> (2)", "<name> (3)"…, each part
// with its own header, frozen header row, auto-filter and drop-downs.
import { setTimeout as sleep } from 'node:timers/promises';
import type ExcelJS from 'exceljs';
import { toExcel, type Cell } from './cells.js';

/** Excel's hard limit of rows per sheet, header included. */
export const EXCEL_MAX_ROWS = 1_048_576;

export interface ColumnSpec {
  header: string;
  /** Width in characters; widened to fit the header and its filter button. */
  width: number;
  /** A drop-down list offered on every data row of this column. */
  list?: readonly string[];
  /** Short codes (currency, bucket) read better centred; numbers and dates are right-aligned by Excel already. */
  align?: 'left' | 'center' | 'right';
  /** A text column right after a number column: a small indent keeps the two from running together. */
  indent?: boolean;
}

export interface SheetSpec {
  name: string;
  columns: readonly ColumnSpec[];
}

/** The parts of exceljs's streaming worksheet we use; its typings describe the in-memory worksheet instead. */
interface StreamSheet {
  columns: Array<{ width?: number }>;
  autoFilter: unknown;
  dataValidations: { add(address: string, validation: ExcelJS.DataValidation): void };
  addRow(values: unknown[]): ExcelJS.Row;
  commit(): void;
  /** exceljs's sheet buffer; `pipes[0]` is the stream the zip archiver compresses from. */
  stream?: { pipes?: Array<{ writableLength?: number; _writableState?: { length?: number } }> };
}

/** Rows between two looks at the zip backlog, and the backlog (bytes of sheet XML not yet compressed) we allow. */
const DRAIN_EVERY = 512;
const MAX_BACKLOG = 2 << 20;

/**
 * exceljs's streaming writer ignores backpressure: rows are handed to the zip archiver at once, and when we produce
 * XML faster than zlib compresses it (always, on a busy machine) the backlog grows with the sheet — measured at
 * >100 MB of Buffers for 200,000 rows. So every few hundred rows we wait until the archiver has caught up.
 */
async function drain(ws: StreamSheet, output: { destroyed?: boolean } | undefined): Promise<void> {
  // A dead output file never drains: stop here and let the writer report the file's error.
  if (output?.destroyed) throw new Error('the workbook file was closed while writing');
  const dest = ws.stream?.pipes?.[0];
  // archiver's PassThrough comes from readable-stream 2, which has no `writableLength` getter yet.
  const backlog = () => dest?.writableLength ?? dest?._writableState?.length;
  if (typeof backlog() !== 'number') return;
  while ((backlog() ?? 0) > MAX_BACKLOG) {
    if (output?.destroyed) throw new Error('the workbook file was closed while writing');
    await sleep(2);
  }
}

export interface SheetWriter {
  /** Resolves at once, except every few hundred rows while the zip compressor catches up (bounded memory). */
  addRow(cells: readonly Cell[]): Promise<void>;
  /** Finishes the current part (auto-filter range, drop-downs) and commits it. */
  close(): void;
  /** Data rows written over all parts. */
  readonly rowCount: number;
  /** Names of the parts written (the first is the sheet name). */
  readonly parts: readonly string[];
}

// exceljs remembers the style id of a style *object* (a WeakMap): cells sharing one object cost one lookup, while a
// fresh object per cell (what `cell.numFmt = …` makes) is serialised and compared every time — most of the CPU
// of a large sheet. So every cell gets one of a few frozen, shared style objects.
const styles = new Map<string, Partial<ExcelJS.Style>>();

function styleFor(numFmt: string | undefined, col: ColumnSpec | undefined): Partial<ExcelJS.Style> {
  const key = `${numFmt ?? ''}|${col?.align ?? ''}|${col?.indent ? 1 : 0}`;
  let style = styles.get(key);
  if (!style) {
    const s: Partial<ExcelJS.Style> = {};
    if (numFmt) s.numFmt = numFmt;
    if (col?.align) s.alignment = { horizontal: col.align };
    if (col?.indent) s.alignment = { horizontal: 'left', indent: 1 };
    style = Object.freeze(s);
    styles.set(key, style);
  }
  return style;
}

export function openSheet(
  wb: ExcelJS.stream.xlsx.WorkbookWriter,
  spec: SheetSpec,
  maxRows = EXCEL_MAX_ROWS,
  signal?: AbortSignal,
): SheetWriter {
  if (maxRows < 2) throw new RangeError('a sheet needs room for its header and at least one row');
  const parts: string[] = [];
  let ws: StreamSheet | undefined;
  let rowsInPart = 0; // data rows in the current part
  let total = 0;
  let sinceDrain = 0;
  const output = (wb as unknown as { stream?: { destroyed?: boolean } }).stream;

  const startPart = () => {
    const name = parts.length === 0 ? spec.name : `${spec.name} (${parts.length + 1})`;
    parts.push(name);
    ws = wb.addWorksheet(name, {
      views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }],
      // Printed (or saved as PDF), a sheet is one page wide, landscape, with the header repeated on every page.
      pageSetup: {
        orientation: 'landscape',
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
        printTitlesRow: '1:1',
        paperSize: 9,
      },
    }) as unknown as StreamSheet;
    // Widths only: a `header` here would make exceljs write its own row 1 behind our back.
    ws.columns = spec.columns.map((c) => ({ width: Math.max(c.width, c.header.length + 4) }));
    const header = ws.addRow(spec.columns.map((c) => c.header));
    // The font is named: a bare { bold: true } drops the default font, and LibreOffice then falls back to a serif.
    header.font = { name: 'Calibri', size: 11, bold: true };
    spec.columns.forEach((c, i) => {
      if (c.align) header.getCell(i + 1).alignment = { horizontal: c.align };
      if (c.indent) header.getCell(i + 1).alignment = { horizontal: 'left', indent: 1 };
    });
    header.commit();
    rowsInPart = 0;
  };

  const finishPart = () => {
    if (!ws) return;
    const lastCol = columnLetter(spec.columns.length);
    const lastRow = Math.max(rowsInPart + 1, 2);
    ws.autoFilter = `A1:${lastCol}${rowsInPart + 1}`;
    spec.columns.forEach((c, i) => {
      if (!c.list) return;
      const col = columnLetter(i + 1);
      ws!.dataValidations.add(`${col}2:${col}${lastRow}`, {
        type: 'list',
        allowBlank: true,
        formulae: [`"${c.list.join(',')}"`],
        showErrorMessage: true,
        errorStyle: 'stop',
        errorTitle: c.header,
        error: `Choose one of ${c.list.join(', ')}`,
      });
    });
    ws.commit();
    ws = undefined;
  };

  startPart();
  return {
    async addRow(cells) {
      if (rowsInPart + 1 >= maxRows) {
        finishPart();
        startPart();
      }
      const values = cells.map(toExcel);
      const row = ws!.addRow(values.map((v) => v.value));
      values.forEach((v, i) => {
        row.getCell(i + 1).style = styleFor(v.numFmt, spec.columns[i]);
      });
      row.commit();
      rowsInPart++;
      total++;
      if (++sinceDrain >= DRAIN_EVERY) {
        sinceDrain = 0;
        signal?.throwIfAborted();
        await drain(ws!, output);
      }
    },
    close() {
      finishPart();
    },
    get rowCount() {
      return total;
    },
    get parts() {
      return parts;
    },
  };
}

/**
 * For sheets small enough to hold in memory (Summary, Run info): widens each column to its longest text, up to
 * `max` characters, so file names and batch ids are not cut off. Streamed sheets keep their fixed widths.
 */
export function fitWidths(spec: SheetSpec, rows: ReadonlyArray<readonly Cell[]>, max = 80): SheetSpec {
  const widths = spec.columns.map((c) => c.width);
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (typeof cell === 'string' && widths[i] !== undefined)
        widths[i] = Math.max(widths[i], Math.min(max, cell.length + 2));
    });
  }
  return { ...spec, columns: spec.columns.map((c, i) => ({ ...c, width: widths[i] ?? c.width })) };
}

/**
 * A sheet small enough to hold in memory, written whole: widths fitted to the text of its first `fitColumns`
 * columns (later ones, such as a free-text Detail at the end, may run on to the right). Returns the rows written.
 */
export async function writeFitted(
  wb: ExcelJS.stream.xlsx.WorkbookWriter,
  spec: SheetSpec,
  rows: ReadonlyArray<readonly Cell[]>,
  fitColumns: number,
  maxRows = EXCEL_MAX_ROWS,
  signal?: AbortSignal,
): Promise<number> {
  const sheet = openSheet(
    wb,
    fitWidths(
      spec,
      rows.map((r) => r.slice(0, fitColumns)),
    ),
    maxRows,
    signal,
  );
  for (const r of rows) await sheet.addRow(r);
  sheet.close();
  return sheet.rowCount;
}

/** 1 -> A, 27 -> AA. */
export function columnLetter(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/**
 * Names each sheet's filter range as Excel does beside `<autoFilter>`: the sheet-local `_xlnm._FilterDatabase`.
 * exceljs writes only the element; LibreOffice shows no filter buttons without the name, and a LibreOffice re-save
 * then drops the filter for everyone. Call once every sheet is written, before the workbook is committed (exceljs
 * reads its defined names when it writes xl/workbook.xml, at commit).
 */
export function nameFilterRanges(wb: ExcelJS.stream.xlsx.WorkbookWriter): void {
  const internal = wb as unknown as {
    _worksheets: ({ name: string; autoFilter?: string } | undefined)[];
    _definedNames: { model: unknown[] };
  };
  // localSheetId is the sheet's position in xl/workbook.xml, which lists the sheets exceljs holds, in order.
  const names = internal._worksheets
    .filter((ws) => ws !== undefined)
    .flatMap((ws, localSheetId) => {
      if (!ws.autoFilter) return [];
      const [from = '', to = ''] = ws.autoFilter.split(':');
      const abs = (cell: string) => cell.replace(/^([A-Z]+)(\d+)$/, '$$$1$$$2');
      const sheet = `'${ws.name.replaceAll("'", "''")}'`;
      return [{ name: '_xlnm._FilterDatabase', localSheetId, ranges: [`${sheet}!${abs(from)}:${abs(to)}`] }];
    });
  const own = internal._definedNames;
  internal._definedNames = {
    get model() {
      return [...own.model, ...names];
    },
  };
}
