// gateway_transactions.raw: jsonb -> json. Frozen once landed. Never import from src/.
//
// Why: raw is the gateway's record exactly as it came, kept so that every figure traces back to it; payrecon
// never queries inside it (the columns it matches on are extracted when the record is stored). jsonb parsed every
// record into a binary tree on the way in: measured on 100k records, COPY of the pull's staging rows took 0.88 s
// with jsonb and 0.43 s with json, which only checks the text is valid JSON. json also keeps the text as the
// gateway sent it (key order, number spelling), which is what a trace should show.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table gateway_transactions alter column raw type json using raw::json`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table gateway_transactions alter column raw type jsonb using raw::jsonb`.execute(db);
}
