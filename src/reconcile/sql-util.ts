import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';

/** Settlement line kinds matched one to one; `fee` and `adjustment` lines only add to fee totals. */
export const MATCHABLE_KINDS = sql.raw(`('payment', 'refund', 'chargeback', 'chargeback_reversal')`);

/** `D` + 16 hex digits of SHA-256 of `provider|type|key`. sha256() is built in since PG 11 (no pgcrypto). */
export function discrepancyIdSql(
  provider: RawBuilder<unknown>,
  type: RawBuilder<unknown>,
  key: RawBuilder<unknown>,
) {
  return sql`'D' || left(encode(sha256(convert_to(${provider} || '|' || ${type} || '|' || ${key}, 'UTF8')), 'hex'), 16)`;
}

/** Runs one statement and returns how many rows it touched. */
export async function exec(db: Db, query: RawBuilder<unknown>): Promise<number> {
  const res = await query.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}
