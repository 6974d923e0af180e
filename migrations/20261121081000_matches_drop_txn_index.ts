// matches loses its (provider, transaction_id) index. Frozen once landed. Never import from src/.
//
// Why: its one reader was the report's chargeback sheet (a record's settled line), a few hundred lookups; the
// writer was the first match of every range, one random-key insert per settlement line (about a third of the
// 4.9 s that writing 780k matches took). The sheet now reaches a record's lines through settlement_lines'
// transaction-id index, plus the partial index of reference matches for lines without an id.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists matches_txn_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists matches_txn_idx on matches (provider, transaction_id)`.execute(db);
}
