import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { StageSelection } from '../jobs/context.js';
import type { MatchParams } from './params.js';
import { exec } from './sql-util.js';
import type { AwaitingTotals } from './types.js';

/** Movements still inside their lag window, recorded for the run (the "Awaiting settlement" sheet). */
export async function writeAwaiting(db: Db, p: MatchParams, runId: number | null): Promise<AwaitingTotals> {
  if (runId !== null) {
    await exec(db, sql`delete from run_awaiting where run_id = ${runId}::bigint`);
    await exec(
      db,
      sql`
      insert into run_awaiting (run_id, provider, transaction_id, gateway_type, kind, merchant_reference, currency,
        amount_minor, transaction_time, deadline)
      select ${runId}::bigint, provider, transaction_id, gateway_type, kind, merchant_reference, currency, amount,
        transaction_time, deadline
      from rc_unmatched where deadline >= ${p.asOf}::date`,
    );
  }
  const rows = await sql<{ currency: string; n: number; amount: number }>`
    select currency, count(*)::int as n, sum(amount)::bigint as amount from rc_unmatched
    where deadline >= ${p.asOf}::date group by currency order by currency`.execute(db);
  const out: AwaitingTotals = { count: 0, byCurrency: {} };
  for (const r of rows.rows) {
    out.count += r.n;
    out.byCurrency[r.currency] = { count: r.n, amountMinor: r.amount };
  }
  return out;
}

export interface AwaitingRow {
  provider: string;
  transactionId: string;
  gatewayType: string;
  kind: string;
  merchantReference: string | null;
  currency: string;
  amountMinor: number;
  transactionTime: Date;
  /** The last date (configured time zone) by which a settlement line is due. */
  deadline: string;
}

/** The awaiting-settlement snapshot a run recorded, ordered by deadline then transaction time. */
export async function listAwaiting(
  db: Db,
  runId: number,
  sel?: Pick<StageSelection, 'providers'>,
): Promise<AwaitingRow[]> {
  let q = db
    .selectFrom('run_awaiting')
    .select([
      'provider',
      'transaction_id',
      'gateway_type',
      'kind',
      'merchant_reference',
      'currency',
      'amount_minor',
      'transaction_time',
      'deadline',
    ])
    .where('run_id', '=', runId);
  if (sel) q = q.where('provider', 'in', sel.providers.length > 0 ? sel.providers : ['']);
  const rows = await q.orderBy('deadline').orderBy('transaction_time').orderBy('transaction_id').execute();
  return rows.map((r) => ({
    provider: r.provider,
    transactionId: r.transaction_id,
    gatewayType: r.gateway_type,
    kind: r.kind,
    merchantReference: r.merchant_reference,
    currency: r.currency,
    amountMinor: r.amount_minor,
    transactionTime: r.transaction_time,
    deadline: r.deadline,
  }));
}
