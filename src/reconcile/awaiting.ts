import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { MatchParams } from './params.js';
import { exec } from './sql-util.js';
import type { AwaitingTotals } from './types.js';

/**
 * Movements still inside their lag window, and those past it held by a file left unloaded (held.ts), recorded for
 * the run (the "Awaiting settlement" sheet).
 */
export async function writeAwaiting(db: Db, p: MatchParams, runId: number | null): Promise<AwaitingTotals> {
  const AWAITING = sql`(deadline >= ${p.asOf}::date or held_file is not null)`;
  if (runId !== null) {
    // Only this match's providers: each provider is matched in a transaction of its own (see matchRange).
    await exec(
      db,
      sql`delete from run_awaiting where run_id = ${runId}::bigint and provider = any (${p.providers}::text[])`,
    );
    await exec(
      db,
      sql`
      insert into run_awaiting (run_id, provider, transaction_id, gateway_type, kind, merchant_reference, currency,
        amount_minor, transaction_time, deadline, held_file, held_date, held_reason)
      select ${runId}::bigint, provider, transaction_id, gateway_type, kind, merchant_reference, currency, amount,
        transaction_time, deadline, held_file, held_date, held_reason
      from rc_unmatched where ${AWAITING}`,
    );
  }
  const rows = await sql<{ currency: string; n: number; amount: number }>`
    select currency, count(*)::int as n, sum(amount)::bigint as amount from rc_unmatched
    where ${AWAITING} group by currency order by currency`.execute(db);
  const out: AwaitingTotals = { count: 0, byCurrency: {} };
  for (const r of rows.rows) {
    out.count += r.n;
    out.byCurrency[r.currency] = { count: r.n, amountMinor: r.amount };
  }
  return out;
}
