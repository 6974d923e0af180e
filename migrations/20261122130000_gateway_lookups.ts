// The ids each run asked a gateway about one by one (src/jobs/stages.ts lookupAndStore), and how many records each
// answer brought: the by-id counterpart of pull_windows, so Run info can say where a record that no window returned
// came from, and which ids the gateway did not know. Frozen once landed. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table gateway_lookups (
      id bigserial primary key,
      run_id bigint references runs (id) on delete cascade,
      provider text not null,
      transaction_id text not null,
      record_count integer not null,
      -- the answer held a record that could not be read (kept in rejected_records): why
      rejected_reason text,
      asked_at timestamptz not null default now()
    );
    create index gateway_lookups_run_idx on gateway_lookups (run_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table gateway_lookups`.execute(db);
}
