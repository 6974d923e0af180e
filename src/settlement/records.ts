// Splits decoded text into CSV records, each with the 1-based line number it starts on and its raw text.
//
// Why not stream everything through csv-parse: measured on these machines, csv-parse with `info` and `raw` (what
// line numbers and raw text need) tops out near 150–180k records/s before any validation or COPY work, which
// leaves no room for the 100k lines/s load target. Settlement lines almost never contain a quote character, and a
// line without one is exactly `line.split(delimiter)`. Records that do contain quotes (and those spanning lines)
// go to csv-parse, so quoting rules stay csv-parse's; line numbers and raw text come from our own splitting.
import { parse as parseCsv } from 'csv-parse/sync';

export interface RawRecord {
  /** Line the record starts on (1-based, counting every physical line of the decoded file). */
  lineNo: number;
  /** The record's text without its line ending. */
  raw: string;
  /** Parsed fields, or null when the record is not valid CSV (then `error` says why). */
  fields: string[] | null;
  error?: string;
}

/** A quoted field may span lines; beyond this many a missing closing quote is reported instead of swallowing the file. */
const MAX_RECORD_LINES = 50;

export class RecordSplitter {
  private rest = '';
  private lineNo = 0;
  private pending: string[] = [];
  private pendingStart = 0;
  private pendingQuotes = 0;

  constructor(
    private readonly delimiter: string,
    private readonly quote: string,
    private readonly onRecord: (rec: RawRecord) => void,
  ) {}

  push(text: string): void {
    let start = 0;
    let buf = this.rest.length > 0 ? this.rest + text : text;
    for (;;) {
      const nl = buf.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(buf.slice(start, end));
      start = nl + 1;
    }
    this.rest = start < buf.length ? buf.slice(start) : '';
    buf = '';
  }

  end(): void {
    if (this.rest.length > 0) {
      const last = this.rest.endsWith('\r') ? this.rest.slice(0, -1) : this.rest;
      this.rest = '';
      this.line(last);
    }
    if (this.pending.length > 0) this.flushUnterminated();
  }

  private line(text: string): void {
    this.lineNo++;
    if (this.pending.length > 0) {
      this.pending.push(text);
      this.pendingQuotes += countChar(text, this.quote);
      if (this.pendingQuotes % 2 === 0) this.emitQuoted(this.pending.join('\n'), this.pendingStart);
      else if (this.pending.length >= MAX_RECORD_LINES) this.flushUnterminated();
      return;
    }
    if (text.length === 0) return;
    if (!text.includes(this.quote)) {
      this.onRecord({ lineNo: this.lineNo, raw: text, fields: text.split(this.delimiter) });
      return;
    }
    const quotes = countChar(text, this.quote);
    if (quotes % 2 === 0) {
      this.emitQuoted(text, this.lineNo);
      return;
    }
    this.pending = [text];
    this.pendingStart = this.lineNo;
    this.pendingQuotes = quotes;
  }

  private emitQuoted(raw: string, lineNo: number): void {
    this.pending = [];
    try {
      const rows: string[][] = parseCsv(raw, {
        delimiter: this.delimiter,
        quote: this.quote,
        relax_column_count: true,
        record_delimiter: '\n',
      });
      const first = rows[0];
      if (rows.length !== 1 || !first)
        this.onRecord({ lineNo, raw, fields: null, error: 'not one CSV record' });
      else this.onRecord({ lineNo, raw, fields: first });
    } catch (e) {
      this.onRecord({ lineNo, raw, fields: null, error: `invalid CSV: ${(e as Error).message}` });
    }
  }

  private flushUnterminated(): void {
    const raw = this.pending.join('\n');
    const lineNo = this.pendingStart;
    this.pending = [];
    this.onRecord({
      lineNo,
      raw,
      fields: null,
      error: `quoted field not closed within ${MAX_RECORD_LINES} lines`,
    });
  }
}

function countChar(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n++;
  return n;
}
