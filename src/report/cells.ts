// Cell values the sheets hand to the writer. Each kind says how it must look in Excel: ids stay text, money is a
// number in major units with the currency's decimals, calendar dates are real dates. Keeping the kinds explicit
// (rather than passing raw JS values) is what guarantees a 19-digit id never becomes a number.
import { currencyExponent, formatMinorWithDecimals, isCurrency } from '../shared/money.js';

export type Cell =
  | null
  | undefined
  | string // text, written as a string cell; never a formula
  | { money: number | null; currency: string | null }
  | { int: number | null }
  | { date: string | null } // 'YYYY-MM-DD'
  | { datetime: string | null }; // wall-clock 'YYYY-MM-DDTHH:MM:SS' in the report's time zone

/** Excel refuses cells longer than this; raw input lines can be longer. */
export const MAX_CELL_TEXT = 32_767;

export const DATE_FORMAT = 'yyyy-mm-dd';
export const DATETIME_FORMAT = 'yyyy-mm-dd hh:mm:ss';
export const INT_FORMAT = '#,##0';

export function money(minor: number | null | undefined, currency: string | null | undefined): Cell {
  return { money: minor ?? null, currency: currency ?? null };
}
export function int(n: number | null | undefined): Cell {
  return { int: n ?? null };
}
export function date(d: string | null | undefined): Cell {
  return { date: d ?? null };
}
export function datetime(d: string | null | undefined): Cell {
  return { datetime: d ?? null };
}

const moneyFormats = new Map<string, string>();

/** `#,##0` for JPY, `#,##0.00` for EUR, `#,##0.000` for KWD. */
export function moneyFormat(currency: string | null): string {
  const exp = currency && isCurrency(currency) ? currencyExponent(currency) : 2;
  const key = String(exp);
  let fmt = moneyFormats.get(key);
  if (!fmt) {
    fmt = exp === 0 ? '#,##0' : `#,##0.${'0'.repeat(exp)}`;
    moneyFormats.set(key, fmt);
  }
  return fmt;
}

export interface ExcelCell {
  value: string | number | Date | null;
  numFmt?: string;
}

/** Converts a sheet cell to what exceljs writes. Strings are returned as strings: exceljs only writes a formula for
 * an object with a `formula` key, which this function never produces, so `=cmd|…` from input data stays text. */
export function toExcel(cell: Cell): ExcelCell {
  if (cell === null || cell === undefined) return { value: null };
  if (typeof cell === 'string') {
    return { value: cell.length > MAX_CELL_TEXT ? cell.slice(0, MAX_CELL_TEXT - 1) + '…' : cell };
  }
  if ('money' in cell) {
    if (cell.money === null) return { value: null };
    // A code that is no accepted currency (a row stored before codes were checked) is shown with two decimals.
    const exp = cell.currency && isCurrency(cell.currency) ? currencyExponent(cell.currency) : 2;
    return { value: Number(formatMinorWithDecimals(cell.money, exp)), numFmt: moneyFormat(cell.currency) };
  }
  if ('int' in cell) return cell.int === null ? { value: null } : { value: cell.int, numFmt: INT_FORMAT };
  if ('date' in cell) {
    return cell.date === null
      ? { value: null }
      : { value: new Date(`${cell.date}T00:00:00Z`), numFmt: DATE_FORMAT };
  }
  // exceljs turns a Date into a serial number from its UTC fields, so the wall-clock time is encoded as UTC.
  return cell.datetime === null
    ? { value: null }
    : { value: new Date(`${cell.datetime}Z`), numFmt: DATETIME_FORMAT };
}
