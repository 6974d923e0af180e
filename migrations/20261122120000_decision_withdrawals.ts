// Decisions can be withdrawn, and each records which decisions its workbook showed. Frozen once landed. Never import
// from src/.
//
// A row without an action records that finance withdrew the discrepancy's decision: it cleared an Action the
// workbook had started with (an IGNORE or INVESTIGATE carried from an earlier decision). The latest row is still the
// current decision, so "no decision" is a row of history like any other, traceable to the cell that was cleared.
// The check constraint already lets null through.
//
// workbook_decisions_shown is the workbook's "Decisions shown up to" (its Run info): the id of the last decision
// recorded when it was written. A decision recorded over a later one than that was taken without seeing it (the
// import says so, and refuses it unless told to overrule); null for a workbook that does not say, and for the rows
// recorded before this column.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table discrepancy_decisions alter column action drop not null;
    alter table discrepancy_decisions add column workbook_decisions_shown bigint;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    delete from discrepancy_decisions where action is null;
    alter table discrepancy_decisions drop column workbook_decisions_shown;
    alter table discrepancy_decisions alter column action set not null;
  `.execute(db);
}
