// Index maintenance was most of the server's work when loading settlement files (per 300k lines: transaction id
// 1.37 s, merchant reference 0.77 s, unique (file_id, line_no) 0.63 s, date 0.5 s, against 1.0 s for the rows).
// Frozen once landed. Never import from src/.
//
// - Merchant reference: matching by reference only ever looks at lines without a transaction id, and its one
//   reader (the matcher's scope, for open `ref:` discrepancies) spells that `coalesce(transaction_id, '') = ''`.
//   The index keeps just those lines, with the predicate written the same way so the planner can prove the query
//   may use it; lines with an id (nearly all) cost it nothing.
// - unique (file_id, line_no) and btree (provider, settlement_date) -> one BRIN over (file_id, provider,
//   settlement_date). The pair is unique by construction: a file's lines are written by one COPY in one
//   transaction under a file id that transaction just created, numbered by one counter. Readers look lines up by
//   file_id alone (superseding a file, the cascade from settlement_files, a file's earliest date) or by provider
//   and a date range (matching, batch checks, the report). Lines arrive file by file, and a file holds one
//   provider and (nearly) one date, contiguous in the heap, so each block range's summary is narrow; a BRIN costs
//   next to nothing per inserted row. Ranges not yet summarised are always read, so the loader summarises a
//   file's new ranges before it commits when the lock is free at once (src/settlement/load.ts); autosummarize
//   and vacuum summarise the rest.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index settlement_lines_ref_idx;
    create index settlement_lines_ref_idx on settlement_lines (provider, merchant_reference)
      where coalesce(transaction_id, '') = '';
    alter table settlement_lines drop constraint settlement_lines_file_id_line_no_key;
    drop index settlement_lines_date_idx;
    create index settlement_lines_file_date_idx on settlement_lines using brin (file_id, provider, settlement_date)
      with (autosummarize = on);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index settlement_lines_file_date_idx;
    create index settlement_lines_date_idx on settlement_lines (provider, settlement_date);
    alter table settlement_lines add constraint settlement_lines_file_id_line_no_key unique (file_id, line_no);
    drop index settlement_lines_ref_idx;
    create index settlement_lines_ref_idx on settlement_lines (provider, merchant_reference);
  `.execute(db);
}
