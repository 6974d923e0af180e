// The pull stage's bulk path: records gathered into binary COPY rows as they arrive (BatchBuilder), then written
// batch by batch through a staging table, or copied straight in when none of them is stored yet (BulkStore).
// Consecutive batches may be written on two connections at once (see BulkStore.store).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type RawBuilder } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../db/connect.js';
import { fieldCount, HEADER, int64, nullValue, text, timestamp, TRAILER } from '../db/copy-binary.js';
import { mayWriteWithoutRowTriggers, withoutRowTriggers } from '../db/row-triggers.js';
import { chunkIds, derive, type Linked } from './derive.js';
import {
  CHUNK,
  COLUMNS,
  contentHash,
  upsertCounts,
  upsertSql,
  type StoreCounts,
  type UpsertRow,
} from './store.js';
import { rawJson, type GatewayTransaction } from './types.js';

/** Row numbers by provider, gateway type and transaction id. */
type KeyIndex = Map<string, Map<string, Map<string, number>>>;

/** A batch ready for BulkStore.store: deduplicated, split into statement-sized chunks, serialised. */
export interface PreparedBatch {
  /**
   * Whether a key of this batch was in the batch taken before it. Written on two connections at the same time, the
   * two would wait for each other for ever: whichever inserts the key first holds it until its commit (the primary
   * key makes the other's insert wait), and the later batch commits only after the earlier (BulkStore.store).
   * Such a batch is written once the batch before is committed.
   */
  overlapsPrevious: boolean;
  /** The builder's buffer that the chunks are views of, if they are (see BatchBuilder.recycle). */
  buffer?: Buffer;
  chunks: {
    rows: number;
    /** The rows in binary COPY format (STAGED_COLUMNS, run stamps included), without header and trailer. */
    data: Buffer;
    /** Transaction ids per provider, and the records that reference another (see derive). */
    ids: Map<string, string[]>;
    linked: Map<string, Linked>;
  }[];
}

/**
 * Gathers records into a PreparedBatch as they arrive, writing each one's binary COPY row at once into a buffer outside
 * the JavaScript heap: a page's parsed records die young, and a batch waiting for its write is bytes the garbage
 * collector never copies or promotes (strings held across a batch were promoted, and the heap grew by hundreds of
 * MB between major collections). The same key twice in one batch keeps the last record, in the place of the first
 * (one INSERT … ON CONFLICT may not touch a row twice).
 */
export class BatchBuilder {
  private buf: Buffer = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  /**
   * Byte range of each row's current encoding, and its provider, transaction id, gateway type and referenced id.
   * Plain arrays of numbers and of the records' own strings: a batch lives through many young-generation
   * collections, and per-row objects and key strings were promoted only to die at the next take().
   */
  private starts: number[] = [];
  private ends: number[] = [];
  private providers: string[] = [];
  private ids: string[] = [];
  private types: string[] = [];
  private refs: (string | null)[] = [];
  /**
   * Row of each key: by provider, then gateway type (a handful each), then transaction id (the record's own
   * strings). Nested rather than by a joined key: a joined string per record cost more than the three lookups.
   */
  private index: KeyIndex = new Map();
  /** The batch before's index, to find a key in both (PreparedBatch.overlapsPrevious). */
  private previous: KeyIndex = new Map();
  private overlaps = false;
  private replaced = false;
  /** Written batches' buffers, to fill next (see recycle): as many as batches may be written at once. */
  private spares: Buffer[] = [];

  /** `runId`: the run that sees these records (first and last seen), null for none. */
  constructor(private readonly runId: number | null) {}

  get size(): number {
    return this.ids.length;
  }

  add(records: readonly GatewayTransaction[]): void {
    for (const t of records) {
      const start = this.pos;
      this.pos = this.writeRow(t);
      let byType = this.index.get(t.provider);
      if (!byType) this.index.set(t.provider, (byType = new Map<string, Map<string, number>>()));
      let byId = byType.get(t.gatewayType);
      if (!byId) byType.set(t.gatewayType, (byId = new Map<string, number>()));
      if (!this.overlaps && this.previous.get(t.provider)?.get(t.gatewayType)?.has(t.transactionId))
        this.overlaps = true;
      const at = byId.get(t.transactionId);
      const row = at ?? this.ids.length;
      if (at === undefined) byId.set(t.transactionId, row);
      else this.replaced = true;
      this.starts[row] = start;
      this.ends[row] = this.pos;
      this.providers[row] = t.provider;
      this.ids[row] = t.transactionId;
      this.types[row] = t.gatewayType;
      this.refs[row] = t.referencedId;
    }
  }

  /** One record as a binary COPY row (STAGED_COLUMNS), at the end of the buffer; returns the end of the row. */
  private writeRow(t: GatewayTransaction): number {
    // The record's text as the gateway sent it, or the parsed record serialised again (as in upsertChunk).
    const raw = rawJson(t);
    const time = t.transactionTime.toISOString();
    const digest = contentHash(t, time);
    // Field count and lengths, four int8 values (amount, time, run stamps), and at most 3 bytes of UTF-8 per
    // UTF-16 unit of text.
    const room =
      2 +
      STAGED_FIELDS * 4 +
      4 * 8 +
      3 *
        (t.provider.length +
          t.transactionId.length +
          t.gatewayType.length +
          t.kind.length +
          t.status.length +
          (t.rootPaymentId?.length ?? 0) +
          (t.referencedId?.length ?? 0) +
          (t.merchantReference?.length ?? 0) +
          (t.currency?.length ?? 0) +
          (t.brand?.length ?? 0) +
          (t.resultCode?.length ?? 0) +
          raw.length +
          digest.length);
    if (this.pos + room > this.buf.length) this.grow(room);
    const b = this.buf;
    let p = fieldCount(b, this.pos, STAGED_FIELDS);
    p = text(b, p, t.provider);
    p = text(b, p, t.transactionId);
    p = text(b, p, t.gatewayType);
    p = text(b, p, t.kind);
    p = text(b, p, t.status);
    p = text(b, p, t.rootPaymentId);
    p = text(b, p, t.referencedId);
    p = text(b, p, t.merchantReference);
    p = t.amountMinor === null ? nullValue(b, p) : int64(b, p, t.amountMinor);
    p = text(b, p, t.currency);
    p = timestamp(b, p, t.transactionTime.getTime());
    p = text(b, p, t.brand);
    p = text(b, p, t.resultCode);
    p = text(b, p, raw);
    p = text(b, p, digest);
    if (this.runId === null) {
      p = nullValue(b, p);
      return nullValue(b, p);
    }
    p = int64(b, p, this.runId);
    return int64(b, p, this.runId);
  }

  /** The batch so far, in chunks of at most CHUNK rows; the builder starts empty again. */
  take(): PreparedBatch {
    const chunks: PreparedBatch['chunks'] = [];
    const n = this.ids.length;
    for (let i = 0; i < n; i += CHUNK) {
      const end = Math.min(n, i + CHUNK);
      const { ids, linked } = chunkIds(
        this.providers.slice(i, end),
        this.ids.slice(i, end),
        this.types.slice(i, end),
        this.refs.slice(i, end),
      );
      // Rows are contiguous unless a key came twice (its later row went to the end): then gather them. Else the
      // chunk is a view of the buffer, which the builder hands over below instead of copying it.
      let data: Buffer;
      if (this.replaced) {
        const parts: Buffer[] = [];
        for (let r = i; r < end; r++) parts.push(this.buf.subarray(this.starts[r], this.ends[r]));
        data = Buffer.concat(parts);
      } else {
        data = this.buf.subarray(this.starts[i], this.ends[end - 1]);
      }
      chunks.push({ rows: end - i, data, ids, linked });
    }
    // The chunks may be views of the buffer, written while the next batch fills: that one gets a buffer of its own,
    // one that a batch before handed back if it is written by now (see recycle).
    const handed = !this.replaced && n > 0 ? this.buf : undefined;
    if (handed) this.buf = this.spares.pop() ?? Buffer.allocUnsafe(handed.length);
    this.pos = 0;
    this.starts = [];
    this.ends = [];
    this.providers = [];
    this.ids = [];
    this.types = [];
    this.refs = [];
    // An empty batch writes nothing: the batch before it stays the one that may still be in writing.
    if (n > 0) this.previous = this.index;
    this.index = new Map();
    const overlapsPrevious = this.overlaps;
    this.overlaps = false;
    this.replaced = false;
    return handed ? { buffer: handed, chunks, overlapsPrevious } : { chunks, overlapsPrevious };
  }

  /**
   * Takes back the buffer of a batch that is written (its COPYs have completed, so the connection holds none of
   * its bytes), for a batch after the one now filling. A pull then writes into the same few buffers from start to
   * end (one filling, one per batch being written): a fresh multi-MB buffer per batch was external memory that
   * only a major collection freed, and its churn made the peak RSS grow with the number of records.
   */
  recycle(batch: PreparedBatch): void {
    const b = batch.buffer;
    if (!b || b === this.buf || this.spares.includes(b) || this.spares.length >= MAX_SPARES) return;
    this.spares.push(b);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/**
 * The bulk path of the pull stage: one pooled connection with a temporary staging table, each batch COPY'd into it
 * and upserted from there by the same statement as storeTransactions. Postgres reads each record's raw JSON once
 * (as json: checked, not converted), where json_to_recordset parses the whole document and then every raw value
 * again; the upsert runs about twice as fast. One batch at a time per BulkStore (one connection); batches of
 * several BulkStores overlap through `prior` (see store).
 */
export class BulkStore {
  private constructor(
    private readonly db: Db,
    private readonly client: pg.PoolClient,
    private readonly runId: number | null,
    /** See `open`: the upsert runs without per-row foreign-key triggers. */
    private readonly quiet: boolean,
  ) {}

  /**
   * The upsert may skip the foreign-key triggers of first_seen_run_id and last_seen_run_id (two lookups of `runs`
   * per written row, and of matches' key on update) when the role allows it: the run id is the one row of `runs`
   * this run created, which payrecon never deletes, and an upsert never changes the key that matches refer to.
   */
  static async open(db: Db, pool: pg.Pool, runId: number | null): Promise<BulkStore> {
    const client = await pool.connect();
    let quiet = false;
    try {
      // Emptied by every commit, in place: cheaper than a TRUNCATE per chunk, which makes a new file each time.
      await client.query(
        `create temp table if not exists ${STAGING} (${COLUMNS}, first_seen_run_id bigint, last_seen_run_id bigint)
         on commit delete rows`,
      );
      await client.query('begin');
      quiet = await mayWriteWithoutRowTriggers((text) => client.query(text), 'gateway_transactions', [
        'insert',
        'update',
      ]);
      await client.query('commit');
    } catch (e) {
      client.release(e as Error);
      throw e;
    }
    return new BulkStore(db, client, runId, quiet);
  }

  /**
   * `prior`: the write of the batch before, on another connection. This batch's rows are copied in meanwhile, and
   * everything that reads or locks stored rows (the upsert, roots, chargeback values) and the commit wait for it.
   * So each batch's derivations see every batch before it, as when they are written one after the other. Before
   * `prior`, this batch only inserts rows that nobody else sees yet and locks no stored row; a key stored already
   * fails the COPY at once, or after the batch before commits (when that batch has just updated the row), and goes
   * through the upsert. The one way the two could wait for each other is a key in both: see
   * PreparedBatch.overlapsPrevious.
   */
  async store(batch: PreparedBatch, prior?: Promise<unknown>): Promise<StoreCounts> {
    const counts: StoreCounts = { inserted: 0, updated: 0, unchanged: 0 };
    for (const [i, chunk] of batch.chunks.entries()) {
      const c = await this.storeChunk(chunk, i === 0 ? prior : undefined);
      counts.inserted += c.inserted;
      counts.updated += c.updated;
      counts.unchanged += chunk.rows - c.inserted - c.updated;
    }
    return counts;
  }

  /**
   * One transaction per chunk: its rows and what they imply for roots and chargeback values commit together (one
   * WAL flush, not three). A chunk of records none of which is stored yet (a first pull of its days: nearly every
   * chunk of a new range) is COPY'd straight into gateway_transactions; otherwise it goes through the staging
   * table and the upsert. The straight COPY skips a second pass over every row (measured on 50k new records:
   * 0.80-0.94 s, against 1.17-1.25 s for staging COPY and upsert).
   *
   * Which way to go is a guess from a sample of the chunk's ids (see `sampleStored`); the primary key decides: if
   * any record of the chunk is stored after all, the COPY fails on it, the chunk rolls back to its savepoint, and
   * goes through the upsert. A re-pull is caught by the sample (all its records are stored); a chunk that straddles
   * the end of an earlier pull costs one wasted partial COPY.
   */
  private async storeChunk(
    chunk: PreparedBatch['chunks'][number],
    prior?: Promise<unknown>,
  ): Promise<UpsertRow> {
    const run = (text: string) => this.client.query(text);
    // The commit does not wait for its WAL to reach the disk (about 14 ms per chunk here). Nothing is claimed on
    // the strength of it: the pull records its windows afterwards in a synchronous commit, which flushes all WAL
    // before it, these chunks' included. A crash before that loses only records that no window claims, and the
    // next pull fetches them again; what is committed stays consistent either way (no corruption, no half chunk).
    await run('begin; set local synchronous_commit = off');
    const copyChunk = (target: string) =>
      pipeline(
        Readable.from([HEADER, chunk.data, TRAILER]),
        this.client.query(copyFrom(`copy ${target} from stdin with (format binary)`)),
      );
    let counts: UpsertRow | undefined;
    if (!(await this.sampleStored(chunk.ids))) {
      await run('savepoint payrecon_direct');
      try {
        await withoutRowTriggers(run, this.quiet, () =>
          copyChunk(`gateway_transactions (${STAGED_COLUMNS})`),
        );
        await run('release savepoint payrecon_direct');
        counts = { inserted: chunk.rows, updated: 0 };
      } catch (e) {
        if ((e as { code?: string }).code !== UNIQUE_VIOLATION) throw e;
        await run('rollback to savepoint payrecon_direct');
      }
    }
    if (!counts) await copyChunk(STAGING);
    await prior;
    if (!counts) {
      const result = await withoutRowTriggers(run, this.quiet, () =>
        this.client.query<UpsertRow>(upsertSql(STAGING), [this.runId]),
      );
      counts = upsertCounts(result.rows);
    }
    // On this connection too, in the chunk's transaction: a lane never asks the pool for a second connection.
    await derive(
      (q) => {
        const compiled = q.compile(this.db);
        return this.client.query(compiled.sql, compiled.parameters as unknown[]);
      },
      chunk.ids,
      chunk.linked,
    );
    await run('commit');
    return counts;
  }

  /**
   * Whether any of up to SAMPLE ids spread over the chunk (first and last included) is stored already. Probing
   * every id cost a primary-key lookup per record (about a tenth of the server's work in a first pull) to answer
   * what the COPY's unique check answers anyway.
   */
  private async sampleStored(ids: ReadonlyMap<string, string[]>): Promise<boolean> {
    for (const [provider, list] of ids) {
      const q = anyStored(provider, sampleOf(list)).compile(this.db);
      const { rows } = await this.client.query<{ found: boolean }>(q.sql, q.parameters as unknown[]);
      if (rows[0]?.found !== false) return true;
    }
    return false;
  }

  /**
   * Ends the connection rather than handing it back to the pool: it has used a temporary table, and a session
   * that has can no longer raise temp_buffers, which matching needs (it would run on 8 MB of local buffers).
   */
  close(): void {
    this.client.release(true);
  }
}

/**
 * Whether any of `ids` is stored for `provider`: one primary-key probe per id. Asked as one EXISTS over the
 * table, the planner expected a match within the first few rows of the provider and scanned them all when there
 * was none (every chunk of a first pull), whenever the statistics knew the provider but not the ids.
 */
export function anyStored(provider: string, ids: readonly string[]): RawBuilder<{ found: boolean }> {
  return sql<{ found: boolean }>`
    select exists (
      select 1 from unnest(${ids}::text[]) as i(id) cross join lateral (
        select 1 from gateway_transactions g where g.provider = ${provider} and g.transaction_id = i.id offset 0
      ) g
    ) as found`;
}

const STAGING = 'payrecon_gateway_batch';
/** Ids probed per chunk and provider before a straight COPY. */
const SAMPLE = 16;

/** Up to SAMPLE elements evenly spread over `list`, its first and last included. */
export function sampleOf<T>(list: readonly T[]): T[] {
  if (list.length <= SAMPLE) return [...list];
  const step = (list.length - 1) / (SAMPLE - 1);
  return Array.from({ length: SAMPLE }, (_, i) => list[Math.round(i * step)]!);
}
/** Buffers kept for reuse: one per batch that may be in writing at once (see pullGateway's lanes). */
const MAX_SPARES = 2;
/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** The columns of a COPY row, run stamps last: the staging table's, and a straight COPY's into the table. */
const STAGED_COLUMNS = `provider, transaction_id, gateway_type, kind, status, root_payment_id, referenced_id,
  merchant_reference, amount_minor, currency, transaction_time, brand, result_code, raw, content_hash,
  first_seen_run_id, last_seen_run_id`;
const STAGED_FIELDS = STAGED_COLUMNS.split(',').length;
