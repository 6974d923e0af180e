// The report's Chargebacks sheet finds its rows through indexes of their own. Frozen once landed. Never import from
// src/.
//
// The sheet lists the chargebacks and chargeback reversals of the run's dates: gateway records by kind and
// transaction time, and settlement lines by kind and settlement date. Under one record in a hundred is one, and
// without an index both tables were read whole for them: at a month of a million payments (1.15M records, 780,000
// lines) the sheet's query spent 0.9 s before its first row, while the rest of the report waited.
//
// Both indexes are partial: a record or line of another kind costs them nothing but the check of its kind, so the
// pull and the load pay for the few rows they hold.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index gateway_transactions_chargeback_idx on gateway_transactions (transaction_time)
      where kind in ('chargeback', 'chargeback_reversal');
    create index settlement_lines_chargeback_idx on settlement_lines (settlement_date)
      where kind in ('chargeback', 'chargeback_reversal');
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index settlement_lines_chargeback_idx;
    drop index gateway_transactions_chargeback_idx;
  `.execute(db);
}
