// A ParseSink that streams canonical lines into `COPY settlement_lines FROM STDIN` on one connection inside the
// caller's transaction, and rejected lines in large unnest inserts. A connection runs one COPY at a time, so when
// enough rejects pile up the COPY is ended, the rejects written, and a new COPY started: memory stays bounded
// however bad a file is.
//
// The COPY is in PostgreSQL's binary format (see db/copy-binary): no value is parsed as text by the server, and
// nothing is formatted or escaped here.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  bytes,
  fieldCount,
  HEADER,
  int32,
  int64,
  nullValue,
  PG_EPOCH_DAYS,
  text,
  timestamp,
  TRAILER,
} from '../db/copy-binary.js';
import { mayWriteWithoutRowTriggers } from '../db/row-triggers.js';
import type { SettlementLine } from './convert.js';
import type { ParseSink } from './parse.js';

const COLUMNS = `file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id, payment_id,
  merchant_reference, transaction_time, currency, gross_minor, fee_minor, net_minor, raw`;
const COPY_SQL = `copy settlement_lines (${COLUMNS}) from stdin with (format binary)`;
const FIELDS = COLUMNS.split(',').length;
/** Bytes of COPY data gathered before a write: big writes keep the per-write overhead negligible. */
const WRITE_BYTES = 256 * 1024;
/**
 * How far the parser may run ahead of the server. Waiting for every write to drain (the stream's 16 KB mark)
 * made parser and server take turns; a few MB of queued COPY data lets them work at the same time, and still
 * bounds memory whatever the file's size.
 */
const AHEAD_BYTES = 4 * 1024 * 1024;
const REJECT_BATCH = 5000;

/** Days from 2000-01-01 of a 'YYYY-MM-DD' date, memoised: a file has very few distinct dates. */
const dayCache = new Map<string, number>();
function pgDays(date: string): number {
  let d = dayCache.get(date);
  if (d === undefined) {
    const ms = Date.parse(`${date}T00:00:00Z`);
    // As the server would: a date that is not a real one (or not YYYY-MM-DD) fails the load, never rolls over.
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date)
      throw new Error(`invalid settlement date "${date}"`);
    d = Math.round(ms / 86_400_000) - PG_EPOCH_DAYS;
    if (dayCache.size > 10_000) dayCache.clear();
    dayCache.set(date, d);
  }
  return d;
}

/** Little strings that repeat on every line (kind, currency), encoded once. */
const smallText = new Map<string, Buffer>();
function encoded(s: string): Buffer {
  let b = smallText.get(s);
  if (!b) {
    b = Buffer.from(s, 'utf8');
    if (smallText.size > 1000) smallText.clear();
    smallText.set(s, b);
  }
  return b;
}

export class CopySink implements ParseSink {
  private copy: Writable | null = null;
  /**
   * The COPY's error. pg-copy-streams emits it (a server error, or the connection ending) without destroying the
   * stream, so `errored` stays null; and the bytes in flight never drain on a dead socket: a wait for 'drain' that
   * starts after the error would never end, and nor would the load.
   */
  private copyError: Error | null = null;
  private buf: Buffer = Buffer.allocUnsafe(WRITE_BYTES * 2);
  private pos = 0;
  private rejects: { lineNo: number[]; reason: string[]; raw: string[] } = {
    lineNo: [],
    reason: [],
    raw: [],
  };
  private readonly provider: Buffer;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly fileId: number,
    provider: string,
    /** See `mayElideFileCheck`: COPY without the per-row foreign-key trigger on file_id. */
    private readonly elideFileCheck = false,
  ) {
    this.provider = Buffer.from(provider, 'utf8');
  }

  line(l: SettlementLine): void {
    // Fixed parts: field count, 15 lengths, 5 int64 + 2 int32 values, plus the pre-encoded strings; every UTF-16
    // unit of the other strings takes at most 3 bytes in UTF-8.
    const variable =
      (l.batchId?.length ?? 0) +
      (l.transactionId?.length ?? 0) +
      (l.paymentId?.length ?? 0) +
      (l.merchantReference?.length ?? 0) +
      l.raw.length;
    this.reserve(2 + FIELDS * 4 + 48 + this.provider.length + 32 + 3 * variable);
    const b = this.buf;
    let p = this.pos;
    p = fieldCount(b, p, FIELDS);
    p = int64(b, p, this.fileId);
    p = int32(b, p, l.lineNo);
    p = bytes(b, p, this.provider);
    p = int32(b, p, pgDays(l.settlementDate));
    p = text(b, p, l.batchId);
    p = bytes(b, p, encoded(l.kind));
    p = text(b, p, l.transactionId);
    p = text(b, p, l.paymentId);
    p = text(b, p, l.merchantReference);
    if (l.transactionTime === null) p = nullValue(b, p);
    else p = timestamp(b, p, l.transactionTime);
    p = bytes(b, p, encoded(l.currency));
    p = int64(b, p, l.grossMinor);
    p = int64(b, p, l.feeMinor);
    p = int64(b, p, l.netMinor);
    p = text(b, p, l.raw);
    this.pos = p;
  }

  /** Room for `n` more bytes; a full buffer is handed to the COPY by the next drain, a new one started here. */
  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const full = this.pos > 0 ? this.buf.subarray(0, this.pos) : null;
    this.buf = Buffer.allocUnsafe(Math.max(WRITE_BYTES * 2, n));
    this.pos = 0;
    if (full) this.pending.push(full);
  }

  /** Filled buffers not yet written (line() is synchronous; writing waits for backpressure in drain()). */
  private pending: Buffer[] = [];

  reject(lineNo: number, reason: string, raw: string): void {
    this.rejects.lineNo.push(lineNo);
    this.rejects.reason.push(reason);
    this.rejects.raw.push(raw);
  }

  async drain(): Promise<void> {
    if (this.pending.length > 0 || this.pos >= WRITE_BYTES) await this.write();
    if (this.rejects.lineNo.length >= REJECT_BATCH) await this.flushRejects();
  }

  /** Writes everything still buffered and ends the COPY. */
  async finish(): Promise<void> {
    if (this.pending.length > 0 || this.pos > 0) await this.write();
    await this.endCopy();
    await this.flushRejects();
  }

  /** Ends a COPY still in progress after a failure, so the connection can roll back. */
  async abort(): Promise<void> {
    const c = this.copy;
    this.copy = null;
    if (!c) return;
    c.destroy();
    await finished(c).catch(() => undefined);
  }

  private async write(): Promise<void> {
    if (!this.copy) {
      if (this.elideFileCheck) await this.client.query('set local session_replication_role = replica');
      this.copy = this.client.query(copyFrom(COPY_SQL));
      // A server-side error can arrive between our writes: kept, and raised by the next write or wait.
      this.copy.on('error', (e: Error) => (this.copyError ??= e));
      this.copy.write(HEADER);
    }
    this.throwIfFailed();
    if (this.pos > 0) {
      this.pending.push(this.buf.subarray(0, this.pos));
      // The written bytes belong to the stream until sent; later lines go to a fresh buffer.
      this.buf = Buffer.allocUnsafe(WRITE_BYTES * 2);
      this.pos = 0;
    }
    for (const chunk of this.pending) this.copy.write(chunk);
    this.pending = [];
    while (this.copy.writableLength > AHEAD_BYTES) {
      this.throwIfFailed();
      await once(this.copy, 'drain');
    }
  }

  private throwIfFailed(): void {
    const e = this.copyError ?? this.copy?.errored;
    if (e) throw e;
  }

  private async endCopy(): Promise<void> {
    const c = this.copy;
    if (!c) return;
    this.throwIfFailed();
    this.copy = null;
    c.end(TRAILER);
    await finished(c);
    if (this.elideFileCheck) await this.client.query('set local session_replication_role = origin');
  }

  private async flushRejects(): Promise<void> {
    if (this.rejects.lineNo.length === 0) return;
    if (this.pending.length > 0 || this.pos > 0) await this.write();
    await this.endCopy();
    const r = this.rejects;
    this.rejects = { lineNo: [], reason: [], raw: [] };
    await this.client.query(
      `insert into rejected_lines (file_id, line_no, reason, raw)
       select $1, * from unnest($2::int[], $3::text[], $4::text[])`,
      [this.fileId, r.lineNo, r.reason, r.raw],
    );
  }
}

/**
 * Whether the COPY may skip the foreign-key trigger that otherwise runs one lookup of settlement_files per loaded
 * line (measured: about a fifth of the server's CPU for a load). Safe for exactly these rows: every line's file_id
 * is the row this same transaction just inserted, which no other transaction can see, let alone delete. Only an
 * insert trigger could fire during the COPY; one for delete or truncate (the matches cascade) never does.
 */
export async function mayElideFileCheck(client: pg.PoolClient): Promise<boolean> {
  return mayWriteWithoutRowTriggers((text) => client.query(text), 'settlement_lines', ['insert']);
}
