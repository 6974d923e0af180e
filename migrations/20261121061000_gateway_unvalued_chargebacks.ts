// Chargebacks without an amount wait for their payment; storing a batch looks them up by the payment id.
// A partial index keeps that lookup to the few waiting rows instead of scanning every gateway record.
// Frozen once landed. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index gateway_transactions_unvalued_cb_idx on gateway_transactions (provider, referenced_id)
      where kind = 'chargeback' and amount_minor is null
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists gateway_transactions_unvalued_cb_idx`.execute(db);
}
