// `matches` is rewritten for every line of a range on each match: a million rows for a month of payments. Each
// foreign key costs a trigger call per inserted row, which dominated the first match of a large range. Keep the
// key to settlement_lines (its cascade removes the matches of a corrected file's lines); drop the two whose
// cascades never fire: gateway records are upserted, never deleted, and runs are not deleted. Never import src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table matches drop constraint if exists matches_provider_transaction_id_gateway_type_fkey`.execute(
    db,
  );
  await sql`alter table matches drop constraint if exists matches_run_id_fkey`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table matches
      add foreign key (provider, transaction_id, gateway_type)
        references gateway_transactions (provider, transaction_id, gateway_type) on delete cascade,
      add foreign key (run_id) references runs (id) on delete set null
  `.execute(db);
}
