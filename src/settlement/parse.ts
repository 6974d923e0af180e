// Streams one settlement file through its profile: skip lines, header -> layout, every record -> a canonical
// line or a rejected line (raw text masked first), and the trailer check at the end. Whole-file problems throw
// FileRejectedError; the caller's transaction then rolls back whatever the sink already wrote.
import { convertRecord, exponentOf, type Layout, type SettlementLine } from './convert.js';
import { FileRejectedError } from './errors.js';
import { maskCardNumbers } from '../shared/card-mask.js';
import { CANONICAL_COLUMNS, type CanonicalColumnName } from './profiles/columns.js';
import { fileNameDate } from './profiles/index.js';
import type { ColumnRef, ResolvedProfile } from './profiles/types.js';
import { readDecoded } from './read.js';
import { RecordSplitter, type RawRecord } from './records.js';

export interface ParseSink {
  line(line: SettlementLine): void;
  reject(lineNo: number, reason: string, raw: string): void;
  /** Called after each decoded chunk: the sink writes out what it buffered, waiting for backpressure. */
  drain(): Promise<void>;
}

export interface ParseResult {
  /** Data records in the file (loaded + rejected; header, skipped lines and trailer excluded). */
  lineCount: number;
  loaded: number;
  rejected: number;
}

export interface ParseInput {
  path: string;
  /** The remote file name: decides gzip by extension together with the magic bytes. */
  name: string;
  profile: ResolvedProfile;
  /** Settlement date from the file name, for profiles without a date column. */
  fileDate: string | null;
  /** Stops the read between chunks (a SIGTERM during a long file): the caller rolls the file back. */
  signal?: AbortSignal;
}

export async function parseSettlementFile(input: ParseInput, sink: ParseSink): Promise<ParseResult> {
  // A name whose date cannot be read says nothing of the days it holds, however good its lines: dated by its lines
  // alone it would sit outside every range and be taken as a late file, or its lines would lose their date.
  const refused = fileNameDate(input.profile, input.name).refused;
  if (refused !== undefined) throw new FileRejectedError(refused);
  const state = new FileState(input, sink);
  const splitter = new RecordSplitter(
    input.profile.delimiter,
    input.profile.quote,
    (rec) => state.record(rec),
    input.profile.skipLines,
  );
  for await (const text of readDecoded(input.path, input.name, input.profile.encoding)) {
    input.signal?.throwIfAborted();
    splitter.push(text);
    state.throwIfFailed();
    await sink.drain();
  }
  splitter.end();
  state.throwIfFailed();
  state.finish();
  await sink.drain();
  return { lineCount: state.dataRecords, loaded: state.loaded, rejected: state.rejected };
}

class FileState {
  dataRecords = 0;
  loaded = 0;
  rejected = 0;
  private layout: Layout | null = null;
  private failure: FileRejectedError | null = null;
  private trailer: { lineNo: number; fields: string[] } | null = null;
  /**
   * For the trailer check: the Net of rejected lines as written (scaled to 10^-SUM_SCALE), and of loaded lines in
   * minor units per currency exponent (the loaded net equals the written one; summing numbers is far cheaper).
   */
  private netSum = 0n;
  private netMinorByExp = [0, 0, 0, 0, 0];
  private netSumKnown = true;

  constructor(
    private readonly input: ParseInput,
    private readonly sink: ParseSink,
  ) {}

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  record(rec: RawRecord): void {
    if (this.failure) return;
    const p = this.input.profile;
    if (this.trailer) {
      this.failure = new FileRejectedError(
        `data after the trailer (line ${rec.lineNo}): truncated or corrupt file`,
      );
      return;
    }
    if (p.trailer === 'payunity' && rec.fields?.[0]?.trim() === 'TRAILER') {
      this.trailer = { lineNo: rec.lineNo, fields: rec.fields };
      return;
    }
    if (!this.layout) {
      if (p.header) {
        if (!rec.fields) {
          this.failure = new FileRejectedError(`unreadable header on line ${rec.lineNo}: ${rec.error ?? ''}`);
          return;
        }
        this.layout = headerLayout(p, rec.fields);
        return;
      }
      if (!rec.fields) {
        this.failure = new FileRejectedError(`unreadable first line ${rec.lineNo}: ${rec.error ?? ''}`);
        return;
      }
      this.layout = positionalLayout(p, rec.fields.length);
    }
    this.dataRecords++;
    let raw = maskCardNumbers(rec.raw);
    if (raw.includes('\u0000')) {
      // PostgreSQL text cannot hold NUL: keep a visible trace of it and reject the line.
      raw = raw.replaceAll('\u0000', '\\0');
      this.reject(rec.lineNo, 'line contains a NUL character', raw);
      this.netSumKnown = false;
      return;
    }
    if (!rec.fields) {
      this.reject(rec.lineNo, rec.error ?? 'unreadable line', raw);
      this.netSumKnown = false;
      return;
    }
    const c = convertRecord(p, this.layout, rec.fields, rec.lineNo, raw, this.input.fileDate);
    if (c.ok) {
      // The free-text fields are stored too (a merchant reference may hold a card number): masked like the raw
      // text. Not the ids: a 19-digit gateway id may pass the Luhn check, and a masked id matches nothing. A line
      // whose raw text holds no card number has none in its fields, which are cut from it.
      if (raw !== rec.raw) maskFreeText(c.line);
      this.loaded++;
      if (p.trailer === 'payunity') {
        // The trailer sums Net as the file writes it: in minor units when the profile's amounts are.
        const e = p.amountUnit === 'minor' ? 0 : exponentOf(c.line.currency);
        this.netMinorByExp[e] = (this.netMinorByExp[e] ?? 0) + c.line.netMinor;
      }
      this.sink.line(c.line);
    } else {
      if (p.trailer === 'payunity') this.addNetText(rec.fields);
      this.reject(rec.lineNo, c.reason, raw);
    }
  }

  private reject(lineNo: number, reason: string, raw: string): void {
    this.rejected++;
    this.sink.reject(lineNo, reason, raw);
  }

  /** Net of a rejected line as written, when it is a plain decimal at all. */
  private addNetText(fields: string[]): void {
    const i = this.layout?.net ?? -1;
    const v = i >= 0 ? scaledDecimal(fields[i] ?? '', this.input.profile.decimalSeparator) : null;
    if (v === null) this.netSumKnown = false;
    else this.netSum += v;
  }

  finish(): void {
    const p = this.input.profile;
    if (!this.layout) {
      if (p.header) throw new FileRejectedError('missing header: the file has no lines');
    }
    if (p.trailer !== 'payunity') return;
    if (!this.trailer)
      throw new FileRejectedError('trailer missing: truncated or corrupt file, nothing loaded');
    const [, countText = '', sumText = ''] = this.trailer.fields.map((f) => f.trim());
    const count = /^\d+$/.test(countText) ? Number(countText) : NaN;
    if (count !== this.dataRecords) {
      throw new FileRejectedError(
        `trailer says ${countText} lines but the file has ${this.dataRecords}: truncated or corrupt file, nothing loaded`,
      );
    }
    const sum = scaledDecimal(sumText, p.decimalSeparator);
    let total = this.netSum;
    for (const [exp, minor] of this.netMinorByExp.entries()) {
      if (!Number.isSafeInteger(minor)) this.netSumKnown = false;
      else total += BigInt(minor) * 10n ** BigInt(SUM_SCALE - exp);
    }
    if (sum === null || !this.netSumKnown || sum !== total) {
      throw new FileRejectedError(
        `trailer sum of net ${sumText} does not agree with the lines: corrupt file, nothing loaded`,
      );
    }
  }
}

const SUM_SCALE = 6;

/** A decimal as written ("-15.00", "89,33") as a bigint of 10^-6 units; null when it is not a plain decimal. */
function scaledDecimal(text: string, decimalSeparator: '.' | ','): bigint | null {
  const m = /^([+-]?)(\d+)(?:[.,](\d{1,6}))?$/.exec(text.trim());
  if (!m) return null;
  if (text.includes(decimalSeparator === '.' ? ',' : '.')) return null;
  const v = BigInt((m[2] ?? '0') + (m[3] ?? '').padEnd(SUM_SCALE, '0'));
  return m[1] === '-' ? -v : v;
}

function emptyLayout(width: number): Layout {
  const l = { extra: {}, width } as Layout;
  for (const c of CANONICAL_COLUMNS) l[c] = -1;
  return l;
}

function headerLayout(p: ResolvedProfile, header: string[]): Layout {
  const names = header.map((h) => h.trim());
  const find = (ref: ColumnRef): number => {
    if (typeof ref === 'number') return ref - 1 < names.length ? ref - 1 : -1;
    const exact = names.indexOf(ref);
    return exact >= 0 ? exact : names.findIndex((n) => n.toLowerCase() === ref.toLowerCase());
  };
  const layout = emptyLayout(names.length);
  const missing: string[] = [];
  for (const [key, ref] of Object.entries(p.columns) as [CanonicalColumnName, ColumnRef][]) {
    const i = find(ref);
    if (i < 0) missing.push(`${key}: "${ref}"`);
    layout[key] = i;
  }
  for (const [key, ref] of Object.entries(p.extraColumns)) {
    const i = find(ref);
    if (i < 0) missing.push(`"${ref}"`);
    layout.extra[key] = i;
  }
  if (missing.length > 0) {
    throw new FileRejectedError(
      `the profile names a column the file does not have (${missing.join(', ')}); header: ${names.join(p.delimiter)}`,
    );
  }
  return layout;
}

function positionalLayout(p: ResolvedProfile, width: number): Layout {
  const layout = emptyLayout(width);
  const missing: string[] = [];
  for (const [key, ref] of Object.entries(p.columns) as [CanonicalColumnName, ColumnRef][]) {
    const pos = typeof ref === 'number' ? ref : Number.NaN;
    if (!(pos >= 1 && pos <= width)) missing.push(`${key}: ${ref}`);
    layout[key] = pos - 1;
  }
  if (missing.length > 0) {
    throw new FileRejectedError(
      `the profile names a column the file does not have (${missing.join(', ')}); the first line has ${width} columns`,
    );
  }
  return layout;
}

/** Card numbers masked in the line's free text, as in its raw text (see maskCardNumbers). */
function maskFreeText(line: SettlementLine): void {
  if (line.merchantReference) line.merchantReference = maskCardNumbers(line.merchantReference);
  if (line.batchId) line.batchId = maskCardNumbers(line.batchId);
}
