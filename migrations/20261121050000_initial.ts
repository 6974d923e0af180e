// Initial schema. Frozen once landed: later changes go in new, later-named migrations. Never import from src/.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table runs (
      id bigserial primary key,
      command text not null,
      from_date date,
      to_date date,
      providers text[] not null default '{}',
      status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
      error text,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      tool_version text not null,
      manifest jsonb not null default '{}',
      counts jsonb not null default '{}',
      report_path text
    );
    create index runs_range_idx on runs (from_date, to_date, id);

    -- One row per distinct file content. (provider, remote_path, size, sha256) is the file's identity: fetching
    -- the same file twice finds this row and loads nothing. A new checksum under a known remote_path is a
    -- correction: the older row becomes 'superseded' and its lines are deleted in the same transaction.
    create table settlement_files (
      id bigserial primary key,
      provider text not null,
      remote_path text not null,
      file_name text not null,
      size bigint not null,
      sha256 char(64) not null,
      settlement_date date,
      archive_path text,
      profile text not null,
      status text not null check (status in ('loaded', 'rejected', 'superseded')),
      reject_reason text,
      line_count integer not null default 0,
      loaded_count integer not null default 0,
      rejected_count integer not null default 0,
      supersedes_file_id bigint references settlement_files (id),
      run_id bigint references runs (id) on delete set null,
      fetched_at timestamptz not null default now(),
      unique (provider, remote_path, size, sha256)
    );
    create index settlement_files_path_idx on settlement_files (provider, remote_path, status);
    create index settlement_files_date_idx on settlement_files (provider, settlement_date);

    create table settlement_lines (
      id bigserial primary key,
      file_id bigint not null references settlement_files (id) on delete cascade,
      line_no integer not null,
      provider text not null,
      settlement_date date not null,
      batch_id text,
      kind text not null check (kind in ('payment', 'refund', 'chargeback', 'chargeback_reversal', 'fee', 'adjustment')),
      transaction_id text,
      payment_id text,
      merchant_reference text,
      transaction_time timestamptz,
      currency char(3) not null,
      gross_minor bigint not null,
      fee_minor bigint not null default 0 check (fee_minor >= 0),
      net_minor bigint not null,
      raw text not null,
      unique (file_id, line_no),
      check (net_minor = gross_minor - fee_minor)
    );
    create index settlement_lines_txn_idx on settlement_lines (provider, transaction_id);
    create index settlement_lines_date_idx on settlement_lines (provider, settlement_date);
    create index settlement_lines_ref_idx on settlement_lines (provider, merchant_reference);

    create table rejected_lines (
      id bigserial primary key,
      file_id bigint not null references settlement_files (id) on delete cascade,
      line_no integer not null,
      reason text not null,
      raw text not null,
      unique (file_id, line_no)
    );

    -- Every record the gateways returned, normalised. Natural key (provider, transaction_id, gateway_type):
    -- PayUnity ids are unique per payment type (one id is both an RG and a CF), UseePay intents and refunds
    -- live in separate id spaces. content_hash lets a re-pull update only what changed.
    create table gateway_transactions (
      provider text not null,
      transaction_id text not null,
      gateway_type text not null,
      kind text not null,
      status text not null,
      root_payment_id text,
      referenced_id text,
      merchant_reference text,
      amount_minor bigint,
      currency char(3),
      transaction_time timestamptz not null,
      brand text,
      result_code text,
      raw jsonb not null,
      content_hash text not null,
      first_seen_run_id bigint references runs (id) on delete set null,
      last_seen_run_id bigint references runs (id) on delete set null,
      updated_at timestamptz not null default now(),
      primary key (provider, transaction_id, gateway_type)
    );
    create index gateway_transactions_time_idx on gateway_transactions (provider, transaction_time);
    create index gateway_transactions_root_idx on gateway_transactions (provider, root_payment_id);
    create index gateway_transactions_ref_idx on gateway_transactions (provider, merchant_reference);

    -- The API windows each run pulled, with record counts (the run manifest's "API windows").
    create table pull_windows (
      id bigserial primary key,
      run_id bigint references runs (id) on delete cascade,
      provider text not null,
      endpoint text not null,
      window_from timestamptz not null,
      window_to timestamptz not null,
      record_count integer not null,
      pulled_at timestamptz not null default now()
    );
    create index pull_windows_run_idx on pull_windows (run_id);

    -- The current state of every discrepancy ever found. The id is stable: derived from (provider, type,
    -- transaction id), so reruns find the same row and finance's decisions carry over.
    create table discrepancies (
      id text primary key,
      provider text not null,
      type text not null,
      transaction_id text not null,
      payment_id text,
      merchant_reference text,
      transaction_time timestamptz,
      settlement_date date,
      currency char(3),
      gateway_amount_minor bigint,
      settled_amount_minor bigint,
      difference_minor bigint,
      refundable_minor bigint,
      detail text not null default '',
      status text not null default 'open' check (status in ('open', 'closed')),
      opened_run_id bigint references runs (id) on delete set null,
      opened_at timestamptz not null default now(),
      last_seen_run_id bigint references runs (id) on delete set null,
      closed_run_id bigint references runs (id) on delete set null,
      closed_at timestamptz,
      close_reason text,
      unique (provider, type, transaction_id)
    );
    create index discrepancies_status_idx on discrepancies (status, provider);

    -- What each run found: a snapshot, so that a run's workbook can be rewritten later and "Changes" can be
    -- computed against the previous run over the same dates.
    create table run_discrepancies (
      run_id bigint not null references runs (id) on delete cascade,
      discrepancy_id text not null references discrepancies (id) on delete cascade,
      change text not null check (change in ('opened', 'unchanged', 'reopened', 'closed')),
      primary key (run_id, discrepancy_id)
    );

    -- Corrective refunds. The idempotency key is stored under a unique constraint before anything is sent.
    create table refund_actions (
      id bigserial primary key,
      idempotency_key text not null unique,
      discrepancy_id text not null references discrepancies (id),
      run_id bigint references runs (id) on delete set null,
      provider text not null,
      payment_id text not null,
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      state text not null default 'planned'
        check (state in ('planned', 'sending', 'succeeded', 'failed', 'unknown', 'cancelled')),
      gateway_refund_id text,
      approved_by text,
      approved_at timestamptz,
      planned_at timestamptz not null default now(),
      sent_at timestamptz,
      finished_at timestamptz,
      last_error text,
      verified_at timestamptz,
      settled_line_id bigint references settlement_lines (id) on delete set null
    );
    -- At most one live refund action per discrepancy.
    create unique index refund_actions_live_idx on refund_actions (discrepancy_id)
      where state not in ('failed', 'cancelled');

    create table refund_attempts (
      id bigserial primary key,
      refund_action_id bigint not null references refund_actions (id) on delete cascade,
      at timestamptz not null default now(),
      action text not null,
      request jsonb,
      response jsonb,
      outcome text not null
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists refund_attempts, refund_actions, run_discrepancies, discrepancies, pull_windows,
      gateway_transactions, rejected_lines, settlement_lines, settlement_files, runs cascade
  `.execute(db);
}
