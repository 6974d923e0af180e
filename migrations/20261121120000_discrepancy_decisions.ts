// Finance's decisions on discrepancies, recorded by the tool (reconciliation.md, "view 3"). Frozen once landed.
// Never import from src/.
//
// A decision is the Action finance chose for a discrepancy in a report workbook (REFUND, IGNORE, INVESTIGATE),
// imported by `payrecon decisions import`. Rows are history, never updated: a discrepancy's current decision is its
// latest row. Each row names the workbook it came from (file name, SHA-256, sheet and row), so a decision is
// traceable to the cell finance filled in. A row is added only when the Action differs from the discrepancy's latest
// decision, so importing a workbook again records nothing. The index finds a discrepancy's latest decision (the
// report's Action column, the import's comparison).
//
// Discrepancies are never deleted by payrecon; the cascade only spares a hand-made cleanup from deleting decisions
// first.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table discrepancy_decisions (
      id bigint generated always as identity primary key,
      discrepancy_id text not null references discrepancies (id) on delete cascade,
      action text not null check (action in ('REFUND', 'IGNORE', 'INVESTIGATE')),
      source_file text not null,
      source_sha256 text not null check (source_sha256 ~ '^[0-9a-f]{64}$'),
      sheet text not null,
      row_no integer not null check (row_no >= 2),
      decided_at timestamptz not null default now()
    );
    create index discrepancy_decisions_latest_idx on discrepancy_decisions (discrepancy_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table discrepancy_decisions`.execute(db);
}
