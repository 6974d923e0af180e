// A ParseSink that streams canonical lines into `COPY settlement_lines FROM STDIN` on one connection inside the
// caller's transaction, and rejected lines in large unnest inserts. A connection runs one COPY at a time, so when
// enough rejects pile up the COPY is ended, the rejects written, and a new COPY started: memory stays bounded
// however bad a file is.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SettlementLine } from './convert.js';
import type { ParseSink } from './parse.js';

const COPY_SQL = `copy settlement_lines (file_id, line_no, provider, settlement_date, batch_id, kind, transaction_id, payment_id,
  merchant_reference, transaction_time, currency, gross_minor, fee_minor, net_minor, raw) from stdin`;
/** Bytes of COPY text gathered before a write: big writes keep the per-write overhead negligible. */
const WRITE_BYTES = 256 * 1024;
/**
 * How far the parser may run ahead of the server. Waiting for every write to drain (the stream's 16 KB mark)
 * made parser and server take turns; a few MB of queued COPY text lets them work at the same time, and still
 * bounds memory whatever the file's size.
 */
const AHEAD_BYTES = 4 * 1024 * 1024;
const REJECT_BATCH = 5000;

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPE_MAP: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: \N for null, backslash escapes for the four special characters. */
function field(v: string | null): string {
  if (v === null) return '\\N';
  return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPES, (c) => ESCAPE_MAP[c] ?? c) : v;
}

export class CopySink implements ParseSink {
  private copy: Writable | null = null;
  private text = '';
  private rejects: { lineNo: number[]; reason: string[]; raw: string[] } = { lineNo: [], reason: [], raw: [] };
  private readonly prefix: string;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly fileId: number,
    provider: string,
    /** See `mayElideFileCheck`: COPY without the per-row foreign-key trigger on file_id. */
    private readonly elideFileCheck = false,
  ) {
    this.prefix = `${fileId}\t`;
    this.providerField = field(provider);
  }

  private readonly providerField: string;

  line(l: SettlementLine): void {
    this.text +=
      this.prefix + l.lineNo + '\t' + this.providerField + '\t' + l.settlementDate + '\t' + field(l.batchId) + '\t' + l.kind + '\t' +
      field(l.transactionId) + '\t' + field(l.paymentId) + '\t' + field(l.merchantReference) + '\t' +
      (l.transactionTime === null ? '\\N' : new Date(l.transactionTime).toISOString()) + '\t' + l.currency + '\t' +
      l.grossMinor + '\t' + l.feeMinor + '\t' + l.netMinor + '\t' + field(l.raw) + '\n';
  }

  reject(lineNo: number, reason: string, raw: string): void {
    this.rejects.lineNo.push(lineNo);
    this.rejects.reason.push(reason);
    this.rejects.raw.push(raw);
  }

  async drain(): Promise<void> {
    if (this.text.length >= WRITE_BYTES) await this.write();
    if (this.rejects.lineNo.length >= REJECT_BATCH) await this.flushRejects();
  }

  /** Writes everything still buffered and ends the COPY. */
  async finish(): Promise<void> {
    if (this.text.length > 0) await this.write();
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
      // A server-side error can arrive between our writes; it is re-raised by the next drain wait or by finished().
      this.copy.on('error', () => undefined);
    }
    if (this.copy.errored) throw this.copy.errored;
    const chunk = this.text;
    this.text = '';
    this.copy.write(chunk);
    while (this.copy.writableLength > AHEAD_BYTES) await once(this.copy, 'drain');
  }

  private async endCopy(): Promise<void> {
    const c = this.copy;
    if (!c) return;
    this.copy = null;
    c.end();
    await finished(c);
    if (this.elideFileCheck) await this.client.query('set local session_replication_role = origin');
  }

  private async flushRejects(): Promise<void> {
    if (this.rejects.lineNo.length === 0) return;
    if (this.text.length > 0) await this.write();
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
 * Whether the COPY may run with `session_replication_role = replica`, which skips the foreign-key trigger that
 * otherwise runs one lookup of settlement_files per loaded line (measured: about a fifth of the server's CPU for a
 * load). Skipping it is safe for exactly these rows: every line's file_id is the row this same transaction just
 * inserted, which no other transaction can see, let alone delete. Unique, check and not-null constraints are not
 * triggers and stay enforced. The role is set only around the COPY statements, and only when
 *  - settlement_lines has no triggers of its own (a trigger someone adds later must never be skipped silently),
 *  - and the database user may set the parameter (superuser, or granted SET on PostgreSQL 15+).
 * Otherwise the load simply keeps the per-row check.
 */
export async function mayElideFileCheck(client: pg.PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_trigger t
      where t.tgrelid = 'settlement_lines'::regclass and not t.tgisinternal`,
  );
  if ((rows[0]?.n ?? 1) > 0) return false;
  await client.query('savepoint payrecon_role_probe');
  try {
    await client.query('set local session_replication_role = replica');
    await client.query('set local session_replication_role = origin');
    await client.query('release savepoint payrecon_role_probe');
    return true;
  } catch {
    await client.query('rollback to savepoint payrecon_role_probe');
    return false;
  }
}
