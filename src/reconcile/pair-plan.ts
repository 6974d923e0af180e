import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { MatchSummary } from './types.js';

/** Lines of the date range matched, in total and per key (read from the scope tables before commit). */
export async function pairPlan(db: Db): Promise<Pick<MatchSummary, 'matched' | 'matchedByKey'>> {
  const rows = await sql<{ match_key: 'transaction_id' | 'merchant_reference'; n: number }>`
    select match_key, count(*)::int as n from rc_pair where in_range and g_tid is not null group by match_key`.execute(
    db,
  );
  const byKey = { transaction_id: 0, merchant_reference: 0 };
  for (const r of rows.rows) byKey[r.match_key] = r.n;
  return { matched: byKey.transaction_id + byKey.merchant_reference, matchedByKey: byKey };
}
