// The report's Chargebacks sheet finds the settlement lines it lists through an index of their own. Frozen once
// landed. Never import from src/.
//
// The sheet lists the chargeback and chargeback-reversal lines of the run's dates that no gateway record matched.
// Under one line in a hundred is one, and without an index every line of the range was read for them. The index is
// partial: a line of another kind costs the load nothing but the check of its kind.
//
// gateway_transactions gets no such index, though the sheet reads its chargebacks by kind as well: the pull values
// chargebacks per chunk through its own partial index of unvalued ones, and when the statistics are stale (a
// provider's first pull) the planner took a partial index of all chargebacks, which looked empty, for a scan of every
// chargeback per chunk instead (test/gateways/store-plans.test.ts).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index settlement_lines_chargeback_idx on settlement_lines (settlement_date)
      where kind in ('chargeback', 'chargeback_reversal');
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index settlement_lines_chargeback_idx`.execute(db);
}
