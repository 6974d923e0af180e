// run_awaiting is read by deadline: each run carries in the movements earlier runs left awaiting that fell due
// before its dates (src/reconcile/scope.ts). Frozen once landed. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index run_awaiting_deadline_idx on run_awaiting (provider, deadline)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index run_awaiting_deadline_idx`.execute(db);
}
