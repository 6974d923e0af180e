// `matches` loses its last foreign key (to settlement_lines); one statement-level trigger keeps its cascade.
// Frozen once landed. Never import from src/.
//
// Why: the first match of a range writes one row per line, and the key's check ran per row a
// `select ... for key share` on settlement_lines: an index probe plus a row lock that rewrites every line's tuple
// header (a million dirtied pages and their WAL for a month of payments). Measured at 1M lines, the insert into
// `matches` took 11.0 s (8.4 s server CPU) with the key.
//
// What the key gave, and what replaces it:
// - Cascade on delete (a corrected file's lines are deleted, directly or through the cascade from
//   settlement_files): an AFTER DELETE ... FOR EACH STATEMENT trigger deletes the matches of the deleted lines,
//   read from the statement's transition table, one set-based delete per statement. It fires for deletes made
//   by a foreign key's cascade too. TRUNCATE of settlement_lines (which needed CASCADE before) empties
//   `matches` through a truncate trigger.
// - No match of a line that does not exist: matches are written only by the matcher, from lines it read in the
//   same transaction, and it runs under the run lock, which loading and corrections take as well (no line can
//   disappear between the read and the write).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table matches drop constraint if exists matches_settlement_line_id_fkey;

    create function payrecon_matches_forget_deleted_lines() returns trigger language plpgsql as $$
    begin
      delete from matches m using deleted_lines d where m.settlement_line_id = d.id;
      return null;
    end $$;
    create trigger settlement_lines_forget_matches after delete on settlement_lines
      referencing old table as deleted_lines
      for each statement execute function payrecon_matches_forget_deleted_lines();

    create function payrecon_matches_forget_all_lines() returns trigger language plpgsql as $$
    begin
      truncate matches;
      return null;
    end $$;
    create trigger settlement_lines_truncate_matches after truncate on settlement_lines
      for each statement execute function payrecon_matches_forget_all_lines();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger if exists settlement_lines_truncate_matches on settlement_lines;
    drop trigger if exists settlement_lines_forget_matches on settlement_lines;
    drop function if exists payrecon_matches_forget_all_lines();
    drop function if exists payrecon_matches_forget_deleted_lines();
    delete from matches m where not exists (select 1 from settlement_lines l where l.id = m.settlement_line_id);
    alter table matches add foreign key (settlement_line_id) references settlement_lines (id) on delete cascade;
  `.execute(db);
}
