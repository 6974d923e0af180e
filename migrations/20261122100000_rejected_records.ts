// Gateway records a pull could not read (a 4-decimal USD amount, no id, a time that is not one, JSON nested too
// deep for PostgreSQL): kept here with where they came from and why, instead of failing the pull. Frozen once
// landed. Never import from src/.
//
// One row per distinct record text in a provider's endpoint and window (raw_hash): a re-pull that meets the same bad
// record again stamps the row, it does not add one. resolved_at is set by the pull that shows the record is no
// longer a problem (stored fine by id, or gone from its window's answer); cleared if it is rejected again.
// hold_id: the payment id a corrective refund must wait for (the record's referencedId / payment_intent_id, or its
// own id when it is a payment); null when the record names nothing usable, which holds every refund candidate of
// the provider while it is unresolved.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rejected_records (
      id bigserial primary key,
      provider text not null,
      endpoint text not null,
      window_from timestamptz not null,
      window_to timestamptz not null,
      record_id text,
      gateway_type text,
      referenced_id text,
      hold_id text,
      reason text not null,
      raw text not null,
      raw_hash text not null,
      first_run_id bigint references runs (id) on delete set null,
      last_run_id bigint references runs (id) on delete set null,
      first_rejected_at timestamptz not null default now(),
      last_rejected_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_run_id bigint references runs (id) on delete set null,
      resolution text,
      unique (provider, endpoint, window_from, window_to, raw_hash)
    );
    create index rejected_records_open_idx on rejected_records (provider) where resolved_at is null;
    create index rejected_records_window_idx on rejected_records (provider, window_from);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rejected_records`.execute(db);
}
