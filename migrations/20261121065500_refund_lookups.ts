// Indexes for the refund planner and executor: "what is still refundable on this payment" is asked for every
// candidate in one statement, and without these each lookup would scan refund_actions. Frozen once landed. Never
// import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- refunds payrecon planned or sent on a payment
    create index refund_actions_payment_idx on refund_actions (provider, payment_id);
    -- a gateway refund record that is one of our own actions is counted once
    create index refund_actions_gateway_refund_idx on refund_actions (provider, gateway_refund_id)
      where gateway_refund_id is not null;
    -- every action of a discrepancy, failed ones included (the next idempotency key's sequence)
    create index refund_actions_discrepancy_idx on refund_actions (discrepancy_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index if exists refund_actions_payment_idx, refund_actions_gateway_refund_idx, refund_actions_discrepancy_idx
  `.execute(db);
}
