// A movement past its settlement deadline stays awaiting, not missing_in_settlement, while a settlement file of its
// provider that could hold its line was listed by the run's fetch and left for the next one (src/reconcile/held.ts).
// Which file held it, that file's settlement date (null: its name gives none) and why the fetch left it, so the
// Awaiting settlement sheet and the run's JSON can say so, and the next run can re-judge it once the file is loaded.
// Frozen once landed. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table run_awaiting
      add column held_file text,
      add column held_date date,
      add column held_reason text
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table run_awaiting drop column held_file, drop column held_date, drop column held_reason
  `.execute(db);
}
