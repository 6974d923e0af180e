import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';

/** Settlement line kinds matched one to one; `fee` and `adjustment` lines only add to fee totals. */
export const MATCHABLE_KINDS = sql.raw(`('payment', 'refund', 'chargeback', 'chargeback_reversal')`);

/** `D` + 16 hex digits of SHA-256 of `provider|type|key`. sha256() is built in since PG 11 (no pgcrypto). */
export function discrepancyIdSql(provider: RawBuilder<unknown>, type: RawBuilder<unknown>, key: RawBuilder<unknown>) {
  return sql`'D' || left(encode(sha256(convert_to(${provider} || '|' || ${type} || '|' || ${key}, 'UTF8')), 'hex'), 16)`;
}

/** Runs one statement and returns how many rows it touched. */
export async function exec(db: Db, query: RawBuilder<unknown>): Promise<number> {
  const t = Date.now();
  if (process.env.RC_EXPLAIN && !/^\s*(set|analyze|create temp table rc_found)/.test(query.compile(db).sql)) {
    const plan = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off, timing off) ${query}`.execute(db);
    process.stderr.write(`${Date.now() - t}ms ${query.compile(db).sql.replace(/\s+/g, ' ').slice(0, 60)}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n\n`);
    return 0;
  }
  const res = await query.execute(db);
  // TIMING-TEMP
  if (process.env.RC_TIMING) process.stderr.write(`${Date.now() - t}ms ${query.compile(db).sql.replace(/\s+/g, ' ').slice(0, 90)}\n`);
  return Number(res.numAffectedRows ?? 0n);
}
