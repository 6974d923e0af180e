// The root index holds only records that reference another. Frozen once landed. Never import from src/.
//
// Every lookup by root_payment_id looks for the records hanging off a payment (captures, refunds, chargebacks, a
// refund of a capture), and those are exactly the records with a referenced_id: a record without one is its own
// root, and the primary key finds it. Indexing every record wrote an index entry per payment that no lookup ever
// read: in a month of a million payments, 1.15M entries of which 171k are ever looked up. Queries that use the
// index say `referenced_id is not null` next to the root (the planner needs it to choose a partial index).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index gateway_transactions_root_idx;
    create index gateway_transactions_root_idx on gateway_transactions using hash (root_payment_id)
      where referenced_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index gateway_transactions_root_idx;
    create index gateway_transactions_root_idx on gateway_transactions using hash (root_payment_id);
  `.execute(db);
}
