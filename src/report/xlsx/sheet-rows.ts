// The rows of one worksheet, streamed: a row is handed on as soon as its XML is read, so memory does not grow with
// the sheet. Cell values are what the cell holds, not how it is formatted: a number stays a number (dates too:
// nothing here reads them).
import { own, parseXmlChunks } from './xml.js';
import type { ZipEntry, ZipFile } from './zip.js';

/** A cell's value: text, a number, TRUE/FALSE, or nothing (empty, an error such as #N/A, a formula never run). */
export type CellValue = string | number | boolean | null;

export interface SheetRow {
  /** 1-based, as Excel shows it. */
  number: number;
  /** By 1-based column number; columns without a value are missing. */
  cells: CellValue[];
}

/** Column number of a cell reference: "Q12" -> 17. */
function columnOf(ref: string): number {
  let col = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return col;
}

function valueOf(
  type: string,
  v: string | null,
  inline: string | null,
  shared: readonly string[],
): CellValue {
  switch (type) {
    case 's':
      return v === null ? null : (shared[Number(v)] ?? null);
    case 'inlineStr':
      return inline === null ? null : own(inline);
    case 'str':
    case 'd':
      return v === null ? null : own(v);
    case 'b':
      return v === null ? null : v.trim() !== '0';
    case 'e':
      return null;
    default:
      return v === null || v.trim() === '' ? null : Number(v);
  }
}

/** The rows of sheet part `entry`, in order; `shared`: the workbook's shared strings. */
export async function* sheetRows(
  zip: ZipFile,
  entry: ZipEntry,
  shared: readonly string[],
): AsyncGenerator<SheetRow> {
  let ready: SheetRow[] = [];
  let row: SheetRow | null = null;
  let lastRow = 0;
  let col = 0;
  let type = 'n';
  let v: string | null = null;
  let inline: string | null = null;
  // Which text is being read: a <v> value, or a <t> of an inline string outside its phonetic runs.
  let into: 'v' | 't' | null = null;
  let inInline = false;
  let phonetic = 0;
  const chunks = parseXmlChunks(zip, entry, {
    open(name, a) {
      switch (name) {
        case 'row':
          lastRow = a.r ? Number(a.r) : lastRow + 1;
          row = { number: lastRow, cells: [] };
          col = 0;
          break;
        case 'c':
          col = a.r ? columnOf(a.r) : col + 1;
          type = a.t ?? 'n';
          v = null;
          inline = null;
          break;
        case 'v':
          into = 'v';
          v = '';
          break;
        case 'is':
          inInline = true;
          inline = '';
          break;
        case 'rPh':
          phonetic++;
          break;
        case 't':
          if (inInline && phonetic === 0) into = 't';
          break;
      }
    },
    text(t) {
      if (into === 'v') v = (v ?? '') + t;
      else if (into === 't') inline = (inline ?? '') + t;
    },
    close(name) {
      switch (name) {
        case 'v':
        case 't':
          into = null;
          break;
        case 'is':
          inInline = false;
          break;
        case 'rPh':
          phonetic--;
          break;
        case 'c': {
          const value = valueOf(type, v, inline, shared);
          if (row && value !== null) row.cells[col] = value;
          break;
        }
        case 'row':
          if (row) ready.push(row);
          row = null;
          break;
      }
    },
  });
  for await (const _ of chunks) {
    if (ready.length > 0) {
      yield* ready;
      ready = [];
    }
  }
  yield* ready;
}
