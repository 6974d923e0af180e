// Results of matching that the report reads. Frozen once landed. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The current match of each settlement line (replaced for the lines of a scope on every match), with the key
    -- that matched it. A line without a row here is unmatched.
    create table matches (
      settlement_line_id bigint primary key references settlement_lines (id) on delete cascade,
      provider text not null,
      transaction_id text not null,
      gateway_type text not null,
      match_key text not null check (match_key in ('transaction_id', 'merchant_reference')),
      run_id bigint references runs (id) on delete set null,
      matched_at timestamptz not null default now(),
      foreign key (provider, transaction_id, gateway_type)
        references gateway_transactions (provider, transaction_id, gateway_type) on delete cascade
    );
    create index matches_txn_idx on matches (provider, transaction_id);

    -- Movements each run found still inside their settlement lag window (the "Awaiting settlement" sheet).
    create table run_awaiting (
      run_id bigint not null references runs (id) on delete cascade,
      provider text not null,
      transaction_id text not null,
      gateway_type text not null,
      kind text not null,
      merchant_reference text,
      currency char(3) not null,
      amount_minor bigint not null,
      transaction_time timestamptz not null,
      deadline date not null,
      primary key (run_id, provider, transaction_id, gateway_type)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists run_awaiting, matches`.execute(db);
}
