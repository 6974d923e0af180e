// The settlement files a fetch listed and left for the next fetch (gone or unreadable, modified too recently, not
// the size listed), per provider. A left file holds the movements it could settle awaiting instead of
// missing_in_settlement (src/reconcile/held.ts); kept here, a match without a fetch of its own (`payrecon match`)
// holds them as the run that fetched did, instead of opening them all the next morning. Each fetch of a provider
// replaces that provider's rows as one set; loading a file removes its row. Frozen once landed. Never import from
// src/.
//
// One row per (provider, remote path): a file left again keeps its first_listed_at (how long it has been stuck)
// and takes the newer listing, reason and run.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table settlement_files_left (
      provider text not null,
      remote_path text not null,
      file_name text not null,
      settlement_date date,
      reason text not null,
      first_listed_at timestamptz not null,
      listed_at timestamptz not null,
      run_id bigint references runs (id) on delete set null,
      primary key (provider, remote_path)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table settlement_files_left`.execute(db);
}
