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

/**
 * A physical line longer than this is rejected unread: settlement lines are a few hundred characters, and a line
 * without end (a file of one 100 MB line, a gzip bomb without newlines) would otherwise be buffered whole, and
 * searched for its end again on every chunk, so memory and time grew with it without bound.
 */
export const MAX_LINE_CHARS = 1 << 20;
/** How much of an overlong line is kept as its raw text. */
const OVERLONG_RAW_CHARS = 1000;

export class RecordSplitter {
  private rest = '';
  private lineNo = 0;
  private pending: string[] = [];
  private pendingStart = 0;
  /** Inside an overlong line: its text is dropped up to its end. */
  private skipping = false;

  constructor(
    private readonly delimiter: string,
    private readonly quote: string,
    private readonly onRecord: (rec: RawRecord) => void,
    /**
     * Physical lines before the data (a profile's `skipLines`): dropped unread. Counted here, not as records: a
     * blank line among them is one of them, and a quote in them (`Merchant "ACME`) opens no field that would
     * swallow the header and the lines after it.
     */
    private readonly skipLines = 0,
  ) {}

  push(text: string): void {
    let start = 0;
    if (this.skipping) {
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      this.skipping = false;
      start = nl + 1;
    }
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
    if (this.rest.length > MAX_LINE_CHARS) {
      // Its end is not here yet: reject it now and drop the rest of it as it comes.
      this.overlong(this.rest);
      this.rest = '';
      this.skipping = true;
    }
  }

  /** Rejects a line longer than MAX_LINE_CHARS, keeping only its beginning as raw text. */
  private overlong(text: string): void {
    if (this.pending.length > 0) this.flushUnterminated();
    const raw = beginningOf(text) + '…';
    this.lineNo++;
    if (this.lineNo <= this.skipLines) return;
    this.onRecord({
      lineNo: this.lineNo,
      raw,
      fields: null,
      error: `line longer than ${MAX_LINE_CHARS} characters: not read`,
    });
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
    if (text.length > MAX_LINE_CHARS) return this.overlong(text);
    this.lineNo++;
    if (this.lineNo <= this.skipLines) return;
    if (this.pending.length > 0) {
      this.pending.push(text);
      if (!this.endsInsideQuotes(text, true)) this.emitQuoted(this.pending.join('\n'), this.pendingStart);
      else if (this.pending.length >= MAX_RECORD_LINES) this.flushUnterminated();
      return;
    }
    if (text.length === 0) return;
    if (!text.includes(this.quote)) {
      this.onRecord({ lineNo: this.lineNo, raw: text, fields: text.split(this.delimiter) });
      return;
    }
    if (!this.endsInsideQuotes(text, false)) {
      this.emitQuoted(text, this.lineNo);
      return;
    }
    this.pending = [text];
    this.pendingStart = this.lineNo;
  }

  /**
   * Whether a quoted field is still open at the end of `text` (`inside`: the line continues one). A quote opens a
   * field only where the field starts, as in CSV: one inside an unquoted field (`Monitor 27"`) is an error of that
   * record alone, which csv-parse reports. Counting every quote instead made such a line swallow the lines after
   * it, up to MAX_RECORD_LINES good lines rejected as one.
   */
  private endsInsideQuotes(text: string, inside: boolean): boolean {
    const { delimiter, quote } = this;
    let open = inside;
    let fieldStart = !inside;
    for (let i = 0; i < text.length;) {
      if (open) {
        const q = text.indexOf(quote, i);
        if (q < 0) return true;
        if (text.startsWith(quote, q + 1)) {
          i = q + 2; // an escaped quote
          continue;
        }
        open = false;
        fieldStart = false;
        i = q + 1;
      } else if (fieldStart && text.startsWith(quote, i)) {
        open = true;
        i += quote.length;
      } else {
        const d = text.indexOf(delimiter, i);
        if (d < 0) return false;
        fieldStart = true;
        i = d + delimiter.length;
      }
    }
    return open;
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

/**
 * The first OVERLONG_RAW_CHARS of an overlong line, less any number the cut would split: the raw text is masked
 * after this, and a card number cut short is no longer one the masking recognises (13 to 19 digits), so its first
 * digits would be kept in clear.
 */
function beginningOf(text: string): string {
  let end = OVERLONG_RAW_CHARS;
  if (/^[ -]?\d/.test(text.slice(end, end + 2))) while (end > 0 && /[\d -]/.test(text[end - 1]!)) end--;
  return text.slice(0, end);
}
