// Gateway records into Postgres: one upsert per batch (from a JSON document here, or COPY'd into a staging table by
// the pull stage's bulk path, bulk-store.ts; never a round trip per row), then the set-based fix-ups of derive.ts
// that need every stored record: root payments and the value of amount-less chargebacks.
import { hash } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import type { Db } from '../db/connect.js';
import { chunkIds, derive } from './derive.js';
import { rawJson, type GatewayTransaction } from './types.js';

export interface StoreCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Rows per statement: large enough to amortise the round trip, small enough for modest statement memory. */
export const CHUNK = 5000;

/**
 * What a record says that payrecon reads, minus what we derive in SQL (root, CB value): a re-pull counts as updated
 * (and moves updated_at) only what changed there. Not the raw text: the platform adds fields at will (its test
 * system a random one inside every `result`, a lookup's envelope a fresh timestamp and ndc), which made every
 * re-pulled record count as updated and its updated_at say nothing. The raw text is still refreshed whenever a run
 * stamps the row (upsertSql), so it is what the gateway said when the run last saw it.
 */
export function contentHash(t: GatewayTransaction, isoTime: string): string {
  // One-shot hash: no Hash object per record (a third cheaper over a million records).
  return hash(
    'sha1',
    [
      t.kind,
      t.status,
      t.referencedId ?? '',
      t.merchantReference ?? '',
      t.amountMinor ?? '',
      t.currency ?? '',
      isoTime,
      t.brand ?? '',
      t.resultCode ?? '',
    ].join('\u0001'),
  );
}

/** The columns a batch carries, in the order of the staging table and of json_to_recordset's record type. */
export const COLUMNS = `provider text, transaction_id text, gateway_type text, kind text, status text, root_payment_id text,
  referenced_id text, merchant_reference text, amount_minor bigint, currency text, transaction_time timestamptz, brand text,
  result_code text, raw json, content_hash text`;

/** A record's natural key (provider, transaction id, gateway type) as one string. */
function keyOf(t: GatewayTransaction): string {
  return `${t.provider}\u0000${t.transactionId}\u0000${t.gatewayType}`;
}

/** The same key twice in one INSERT … ON CONFLICT is an error: keep the last of each within the batch. */
function lastOfEachKey(txns: readonly GatewayTransaction[]): GatewayTransaction[] {
  const byKey = new Map<string, GatewayTransaction>();
  for (const t of txns) byKey.set(keyOf(t), t);
  return [...byKey.values()];
}

export async function storeTransactions(
  db: Db,
  runId: number | null,
  txns: GatewayTransaction[],
): Promise<StoreCounts> {
  const counts: StoreCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const unique = lastOfEachKey(txns);
  for (let i = 0; i < unique.length; i += CHUNK) {
    const part = unique.slice(i, i + CHUNK);
    const c = await upsertChunk(db, runId, part);
    counts.inserted += c.inserted;
    counts.updated += c.updated;
    counts.unchanged += part.length - c.inserted - c.updated;
    const { ids, linked } = chunkIds(
      part.map((t) => t.provider),
      part.map((t) => t.transactionId),
      part.map((t) => t.gatewayType),
      part.map((t) => t.referencedId),
    );
    await derive((q) => q.execute(db), ids, linked);
  }
  return counts;
}

async function upsertChunk(
  db: Db,
  runId: number | null,
  rows: GatewayTransaction[],
): Promise<{ inserted: number; updated: number }> {
  // One JSON document per batch, opened by json_to_recordset: Postgres parses it in C, and each record's raw JSON is
  // spliced in as is (the gateway's text, or serialised once, also for its hash) instead of being escaped into an
  // array literal.
  const parts: string[] = [];
  for (const t of rows) {
    const raw = rawJson(t);
    const time = t.transactionTime.toISOString();
    const fields = JSON.stringify({
      provider: t.provider,
      transaction_id: t.transactionId,
      gateway_type: t.gatewayType,
      kind: t.kind,
      status: t.status,
      root_payment_id: t.rootPaymentId,
      referenced_id: t.referencedId,
      merchant_reference: t.merchantReference,
      amount_minor: t.amountMinor,
      currency: t.currency,
      transaction_time: time,
      brand: t.brand,
      result_code: t.resultCode,
      content_hash: contentHash(t, time),
    });
    parts.push(`${fields.slice(0, -1)},"raw":${raw}}`);
  }
  const doc = `[${parts.join(',')}]`;
  const result = await db.executeQuery<UpsertRow>(
    CompiledQuery.raw(upsertSql(`json_to_recordset($2::json) as i(${COLUMNS})`), [runId, doc]),
  );
  return upsertCounts(result.rows);
}

export interface UpsertRow {
  inserted: number;
  updated: number;
}

export function upsertCounts(rows: readonly UpsertRow[]): { inserted: number; updated: number } {
  const row = rows[0];
  return { inserted: row?.inserted ?? 0, updated: row?.updated ?? 0 };
}

/** The one upsert both paths run, from `input` (a relation with COLUMNS); $1 is the run id. */
export function upsertSql(input: string): string {
  return `
    with input as (select * from ${input}),
    written as (
      insert into gateway_transactions as g (provider, transaction_id, gateway_type, kind, status, root_payment_id,
        referenced_id, merchant_reference, amount_minor, currency, transaction_time, brand, result_code, raw,
        content_hash, first_seen_run_id, last_seen_run_id)
      select provider, transaction_id, gateway_type, kind, status, root_payment_id, referenced_id, merchant_reference,
        amount_minor, currency, transaction_time, brand, result_code, raw, content_hash, $1::bigint, $1::bigint
      from input
      on conflict (provider, transaction_id, gateway_type) do update set
        kind = excluded.kind, status = excluded.status,
        root_payment_id = case when g.content_hash = excluded.content_hash then g.root_payment_id else excluded.root_payment_id end,
        referenced_id = excluded.referenced_id, merchant_reference = excluded.merchant_reference,
        amount_minor = case when g.content_hash = excluded.content_hash then g.amount_minor else excluded.amount_minor end,
        currency = case when g.content_hash = excluded.content_hash then g.currency else excluded.currency end,
        transaction_time = excluded.transaction_time, brand = excluded.brand, result_code = excluded.result_code,
        raw = excluded.raw, content_hash = excluded.content_hash,
        last_seen_run_id = coalesce(excluded.last_seen_run_id, g.last_seen_run_id),
        updated_at = case when g.content_hash = excluded.content_hash then g.updated_at else now() end
      -- Unchanged rows are not rewritten, except to note that this run saw them.
      where g.content_hash <> excluded.content_hash
         or (excluded.last_seen_run_id is not null and g.last_seen_run_id is distinct from excluded.last_seen_run_id)
      -- xmax = 0 marks a fresh insert; updated_at = now() (this statement's transaction) a real content change,
      -- as opposed to a row only stamped with this run.
      returning (g.xmax = 0) as fresh, (g.updated_at = now()) as changed
    )
    select
      count(*) filter (where fresh)::int as inserted,
      count(*) filter (where not fresh and changed)::int as updated
    from written
  `;
}
